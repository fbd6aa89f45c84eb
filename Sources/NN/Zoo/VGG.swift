extension ModelZoo {
    /// torchvision's VGG-16 without batch norm (Simonyan and Zisserman's configuration D, thirteen 3x3 convolutions):
    /// 138,357,544 parameters for 1000 classes.
    ///
    /// Initialised as torchvision does: convolutions He normal with fan-out and zero bias, linear layers normal
    /// with standard deviation 0.01 and zero bias. The adaptive pool makes the classifier's input 512x7x7 at any
    /// image size (224x224 gives 7x7 itself). `dropout` is the probability of both classifier dropouts.
    public static func vgg16(classes: Int = 1000, channels: Int = 3, dropout: Float = 0.5) -> Graph {
        // Output channels of each convolution, 0 for a 2x2 max pool.
        let configuration = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0]
        let graph = Graph()
        var x = graph.input
        var index = 0, inChannels = channels
        for width in configuration {
            if width == 0 {
                x = graph.add("features.\(index)", MaxPool2D(kernel: 2), x)
                index += 1
            } else {
                x = graph.add("features.\(index)", Conv2D(inChannels, width, kernel: 3, padding: 1,
                                                          weightInitializer: .heNormal(fan: width * 9),
                                                          biasInitializer: .zeros), x)
                x = graph.add("features.\(index + 1)", Activation(.relu), x)
                index += 2
                inChannels = width
            }
        }
        func linear(_ inFeatures: Int, _ outFeatures: Int) -> Dense {
            Dense(inFeatures, outFeatures, weightInitializer: .normal(std: 0.01), biasInitializer: .zeros)
        }
        x = graph.add("avgpool", AdaptiveAvgPool2D(outputHeight: 7, outputWidth: 7), x)
        x = graph.add("flatten", Flatten(), x)
        x = graph.add("classifier.0", linear(512 * 7 * 7, 4096), x)
        x = graph.add("classifier.1", Activation(.relu), x)
        x = graph.add("classifier.2", Dropout(probability: dropout), x)
        x = graph.add("classifier.3", linear(4096, 4096), x)
        x = graph.add("classifier.4", Activation(.relu), x)
        x = graph.add("classifier.5", Dropout(probability: dropout), x)
        graph.add("classifier.6", linear(4096, classes), x)
        return graph
    }
}
