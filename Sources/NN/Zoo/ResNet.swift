extension ModelZoo {
    /// torchvision's ResNet-18 (basic blocks 2-2-2-2): 11,689,512 parameters for 1000 classes.
    public static func resnet18(classes: Int = 1000, channels: Int = 3) -> Graph {
        imagenetResNet(blocks: [2, 2, 2, 2], bottleneck: false, classes: classes, channels: channels)
    }

    /// torchvision's ResNet-50 (bottleneck blocks 3-4-6-3, stride on the 3x3 convolution, "v1.5"):
    /// 25,557,032 parameters for 1000 classes.
    public static func resnet50(classes: Int = 1000, channels: Int = 3) -> Graph {
        imagenetResNet(blocks: [3, 4, 6, 3], bottleneck: true, classes: classes, channels: channels)
    }

    /// The torchvision ResNet: names, order and initialisation as `torchvision.models.resnet` (convolutions He
    /// normal with fan-out, batch norm 1 and 0, the classifier PyTorch's linear default).
    static func imagenetResNet(blocks: [Int], bottleneck: Bool, classes: Int, channels: Int) -> Graph {
        let graph = Graph()
        var x = graph.add("conv1", convolution(channels, 64, kernel: 7, stride: 2, padding: 3), graph.input)
        x = graph.add("bn1", BatchNorm(64, relu: true), x)
        x = graph.add("maxpool", MaxPool2D(kernel: 3, stride: 2, padding: 1), x)
        let expansion = bottleneck ? 4 : 1
        var inPlanes = 64
        for (stage, count) in blocks.enumerated() {
            let planes = 64 << stage
            for index in 0..<count {
                let stride = (stage > 0 && index == 0) ? 2 : 1
                let prefix = "layer\(stage + 1).\(index)"
                x = bottleneck
                    ? bottleneckBlock(graph, x, prefix: prefix, inPlanes: inPlanes, planes: planes, stride: stride)
                    : basicBlock(graph, x, prefix: prefix, inPlanes: inPlanes, planes: planes, stride: stride,
                                 shortcut: .projection)
                inPlanes = planes * expansion
            }
        }
        x = graph.add("avgpool", GlobalAvgPool2D(), x)
        graph.add("fc", Dense(inPlanes, classes), x)
        return graph
    }

    /// A convolution without bias, initialised as torchvision's ResNets do (kaiming_normal_, fan-out, ReLU).
    static func convolution(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0) -> Conv2D {
        Conv2D(inChannels, outChannels, kernel: kernel, stride: stride, padding: padding, bias: false,
               weightInitializer: .heNormal(fan: outChannels * kernel * kernel))
    }

    /// Two 3x3 convolutions and a shortcut: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).
    static func basicBlock(_ graph: Graph, _ x: Graph.Node, prefix: String, inPlanes: Int, planes: Int, stride: Int,
                           shortcut: Shortcut) -> Graph.Node {
        var y = graph.add("\(prefix).conv1", convolution(inPlanes, planes, kernel: 3, stride: stride, padding: 1), x)
        y = graph.add("\(prefix).bn1", BatchNorm(planes, relu: true), y)
        y = graph.add("\(prefix).conv2", convolution(planes, planes, kernel: 3, padding: 1), y)
        y = graph.add("\(prefix).bn2", BatchNorm(planes), y)
        let identity = downsample(graph, x, prefix: prefix, inPlanes: inPlanes, outPlanes: planes, stride: stride,
                                  shortcut: shortcut)
        return graph.add("\(prefix).add", Add(relu: true), y, identity)
    }

    /// 1x1 reduce, 3x3 (strided), 1x1 expand by 4, and a shortcut.
    static func bottleneckBlock(_ graph: Graph, _ x: Graph.Node, prefix: String, inPlanes: Int, planes: Int,
                                stride: Int) -> Graph.Node {
        var y = graph.add("\(prefix).conv1", convolution(inPlanes, planes, kernel: 1), x)
        y = graph.add("\(prefix).bn1", BatchNorm(planes, relu: true), y)
        y = graph.add("\(prefix).conv2", convolution(planes, planes, kernel: 3, stride: stride, padding: 1), y)
        y = graph.add("\(prefix).bn2", BatchNorm(planes, relu: true), y)
        y = graph.add("\(prefix).conv3", convolution(planes, planes * 4, kernel: 1), y)
        y = graph.add("\(prefix).bn3", BatchNorm(planes * 4), y)
        let identity = downsample(graph, x, prefix: prefix, inPlanes: inPlanes, outPlanes: planes * 4, stride: stride,
                                  shortcut: .projection)
        return graph.add("\(prefix).add", Add(relu: true), y, identity)
    }

    /// The shortcut branch: the input itself when shapes agree, else a projection (1x1 convolution and batch
    /// norm, torchvision's `downsample.0` and `downsample.1`) or zero padding.
    static func downsample(_ graph: Graph, _ x: Graph.Node, prefix: String, inPlanes: Int, outPlanes: Int, stride: Int,
                           shortcut: Shortcut) -> Graph.Node {
        guard stride != 1 || inPlanes != outPlanes else { return x }
        switch shortcut {
        case .projection:
            let y = graph.add("\(prefix).downsample.0", convolution(inPlanes, outPlanes, kernel: 1, stride: stride), x)
            return graph.add("\(prefix).downsample.1", BatchNorm(outPlanes), y)
        case .zeroPadding:
            return graph.add("\(prefix).shortcut", ChannelPadShortcut(outChannels: outPlanes, stride: stride), x)
        }
    }
}
