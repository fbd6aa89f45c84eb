/// One layer of a model given as data (a config's `[[model.layers]]`), with its input size inferred.
public enum LayerSpec: Sendable, Equatable {
    case dense(outFeatures: Int, bias: Bool = true)
    case conv2d(outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true)
    case maxPool(kernel: Int, stride: Int? = nil, padding: Int = 0)
    case avgPool(kernel: Int, stride: Int? = nil, padding: Int = 0)
    case globalAvgPool
    case flatten
    case activation(Activation.Kind)
    case dropout(probability: Float)
    case batchNorm
}

extension ModelZoo {
    /// A chain of layers given as data, named `layers.0`, `layers.1`, ... as an `nn.Sequential` would name them.
    ///
    /// Each layer's input size (channels or features) comes from the shape before it, so a description lists only
    /// what a person would choose.
    public static func sequential(_ layers: [LayerSpec], inputShape: [Int]) throws(ShapeError) -> Graph {
        let graph = Graph()
        var x = graph.input
        var shape = [1] + inputShape
        for (index, spec) in layers.enumerated() {
            let layer: any Layer
            switch spec {
            case .dense(let out, let bias):
                guard shape.count == 2 else {
                    throw ShapeError("layers.\(index): dense needs flat input, got \(Array(shape.dropFirst())) (add a flatten layer)")
                }
                layer = Dense(shape[1], out, bias: bias)
            case .conv2d(let out, let kernel, let stride, let padding, let bias):
                guard shape.count == 4 else {
                    throw ShapeError("layers.\(index): conv2d needs image input [C, H, W], got \(Array(shape.dropFirst()))")
                }
                layer = Conv2D(shape[1], out, kernel: kernel, stride: stride, padding: padding, bias: bias)
            case .maxPool(let kernel, let stride, let padding):
                layer = MaxPool2D(kernel: kernel, stride: stride, padding: padding)
            case .avgPool(let kernel, let stride, let padding):
                layer = AvgPool2D(kernel: kernel, stride: stride, padding: padding)
            case .globalAvgPool:
                layer = GlobalAvgPool2D()
            case .flatten:
                layer = Flatten()
            case .activation(let kind):
                layer = Activation(kind)
            case .dropout(let probability):
                layer = Dropout(probability: probability)
            case .batchNorm:
                guard shape.count >= 2 else { throw ShapeError("layers.\(index): batch norm needs [C, ...] input") }
                layer = BatchNorm(shape[1])
            }
            do {
                shape = try layer.outputShape(for: [shape])
            } catch {
                throw ShapeError("layers.\(index): \(error.description)")
            }
            x = graph.add("layers.\(index)", layer, x)
        }
        return graph
    }
}
