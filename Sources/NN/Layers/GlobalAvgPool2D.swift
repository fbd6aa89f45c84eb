import Engine

/// Averages each channel over all positions: [N, C, H, W] -> [N, C] (torchvision's `avgpool` then `flatten`).
public final class GlobalAvgPool2D: Layer {
    private var inputShape: [Int] = []
    private var output: Tensor?
    private var gradients = GradientPool()

    public init() {}

    public func outputShape(for inputShapes: [[Int]]) throws(ShapeError) -> [Int] {
        let shape = inputShapes[0]
        guard shape.count == 4 else { throw ShapeError("global average pooling expects [N, C, H, W], got \(shape)") }
        return [shape[0], shape[1]]
    }

    public func share(_ memory: SharedMemory) {
        gradients = memory.gradients
    }

    public func forward(_ inputs: [Tensor], context: ForwardContext) -> Tensor {
        let x = inputs[0]
        let y = Tensor.reusing(output, shape: [x.shape[0], x.shape[1]])
        Pooling.globalAverageForward(input: x, output: y)
        inputShape = x.shape
        output = y
        return y
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> [Tensor] {
        guard needsInputGradient else { return [] }
        let dx = gradients.tensor(shape: inputShape)
        Pooling.globalAverageBackward(outputGradient: outputGradient, inputGradient: dx)
        return [dx]
    }
}
