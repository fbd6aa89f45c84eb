extension ModelZoo {
    /// LeNet-5 (LeCun et al. 1998): C1 6@5x5, pool, C3 16@5x5 (connected to all six maps), pool, C5 120@5x5,
    /// F6 84, output `classes`; 61,706 parameters for 10 classes.
    ///
    /// The network is defined on 32x32 images; 28x28 images (MNIST) get C1 padding 2, which gives the same shapes.
    public static func lenet5(inputSize: Int = 32, channels: Int = 1, classes: Int = 10,
                              activation: Activation.Kind = .tanh, pooling: Pooling = .max) -> Graph {
        precondition(inputSize == 32 || inputSize == 28, "LeNet-5 takes 32x32 or 28x28 images, not \(inputSize)x\(inputSize)")
        let graph = Graph()
        func pool() -> any Layer { pooling == .max ? MaxPool2D(kernel: 2) : AvgPool2D(kernel: 2) }
        var x = graph.add("conv1", Conv2D(channels, 6, kernel: 5, padding: inputSize == 28 ? 2 : 0), graph.input)
        x = graph.add("act1", Activation(activation), x)
        x = graph.add("pool1", pool(), x)
        x = graph.add("conv2", Conv2D(6, 16, kernel: 5), x)
        x = graph.add("act2", Activation(activation), x)
        x = graph.add("pool2", pool(), x)
        x = graph.add("conv3", Conv2D(16, 120, kernel: 5), x)
        x = graph.add("act3", Activation(activation), x)
        x = graph.add("flatten", Flatten(), x)
        x = graph.add("fc1", Dense(120, 84), x)
        x = graph.add("act4", Activation(activation), x)
        graph.add("fc2", Dense(84, classes), x)
        return graph
    }
}
