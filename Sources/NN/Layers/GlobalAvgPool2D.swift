import Engine

/// Averages each channel over all positions: [N, C, H, W] -> [N, C] (torchvision's `avgpool` then `flatten`).
public final class GlobalAvgPool2D: Layer {
    private var inputShape: [Int] = []
    private var pool = TensorPool()

    public init() {}

    public func outputShape(for inputShapes: [[Int]]) throws(ShapeError) -> [Int] {
        let shape = inputShapes[0]
        guard shape.count == 4 else { throw ShapeError("global average pooling expects [N, C, H, W], got \(shape)") }
        return [shape[0], shape[1]]
    }

    public func share(_ memory: SharedMemory) {
        pool = memory.pool
    }

    public func forward(_ inputs: [Tensor], context: ForwardContext) -> Tensor {
        let x = inputs[0]
        let y = pool.tensor(shape: [x.shape[0], x.shape[1]])
        Pooling.globalAverageForward(input: x, output: y)
        inputShape = x.shape
        return y
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> [Tensor] {
        guard needsInputGradient else { return [] }
        let dx = pool.tensor(shape: inputShape)
        Pooling.globalAverageBackward(outputGradient: outputGradient, inputGradient: dx)
        return [dx]
    }
}
