extension ModelZoo {
    /// He et al.'s ResNet-20 for 32x32 images (CIFAR): a 3x3 stem of 16 channels, three stages of three basic
    /// blocks with 16, 32 and 64 channels, global average pooling and a linear classifier.
    ///
    /// With 10 classes it has 269,722 parameters with zero-padding shortcuts, 272,474 with 1x1 projections.
    public static func resnet20(classes: Int = 10, channels: Int = 3, shortcut: Shortcut = .zeroPadding) -> Graph {
        let graph = Graph()
        var x = graph.add("conv1", convolution(channels, 16, kernel: 3, padding: 1), graph.input)
        x = graph.add("bn1", BatchNorm(16, relu: true), x)
        var inPlanes = 16
        for stage in 0..<3 {
            let planes = 16 << stage
            for index in 0..<3 {
                let stride = (stage > 0 && index == 0) ? 2 : 1
                x = basicBlock(graph, x, prefix: "layer\(stage + 1).\(index)", inPlanes: inPlanes, planes: planes,
                               stride: stride, shortcut: shortcut)
                inPlanes = planes
            }
        }
        x = graph.add("avgpool", GlobalAvgPool2D(), x)
        graph.add("fc", Dense(64, classes), x)
        return graph
    }
}
