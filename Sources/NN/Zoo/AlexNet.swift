extension ModelZoo {
    /// torchvision's AlexNet (the one-GPU variant of Krizhevsky's "one weird trick" paper, 64-192-384-256-256
    /// channels): 61,100,840 parameters for 1000 classes, initialised with PyTorch's defaults as torchvision does.
    ///
    /// The adaptive pool makes the classifier's input 256x6x6 at any image size (a 224x224 image gives 6x6 itself).
    /// `dropout` is the probability of both classifier dropouts.
    public static func alexnet(classes: Int = 1000, channels: Int = 3, dropout: Float = 0.5) -> Graph {
        let graph = Graph()
        var x = graph.add("features.0", Conv2D(channels, 64, kernel: 11, stride: 4, padding: 2), graph.input)
        x = graph.add("features.1", Activation(.relu), x)
        x = graph.add("features.2", MaxPool2D(kernel: 3, stride: 2), x)
        x = graph.add("features.3", Conv2D(64, 192, kernel: 5, padding: 2), x)
        x = graph.add("features.4", Activation(.relu), x)
        x = graph.add("features.5", MaxPool2D(kernel: 3, stride: 2), x)
        x = graph.add("features.6", Conv2D(192, 384, kernel: 3, padding: 1), x)
        x = graph.add("features.7", Activation(.relu), x)
        x = graph.add("features.8", Conv2D(384, 256, kernel: 3, padding: 1), x)
        x = graph.add("features.9", Activation(.relu), x)
        x = graph.add("features.10", Conv2D(256, 256, kernel: 3, padding: 1), x)
        x = graph.add("features.11", Activation(.relu), x)
        x = graph.add("features.12", MaxPool2D(kernel: 3, stride: 2), x)
        x = graph.add("avgpool", AdaptiveAvgPool2D(outputHeight: 6, outputWidth: 6), x)
        x = graph.add("flatten", Flatten(), x)
        x = graph.add("classifier.0", Dropout(probability: dropout), x)
        x = graph.add("classifier.1", Dense(256 * 6 * 6, 4096), x)
        x = graph.add("classifier.2", Activation(.relu), x)
        x = graph.add("classifier.3", Dropout(probability: dropout), x)
        x = graph.add("classifier.4", Dense(4096, 4096), x)
        x = graph.add("classifier.5", Activation(.relu), x)
        graph.add("classifier.6", Dense(4096, classes), x)
        return graph
    }
}
