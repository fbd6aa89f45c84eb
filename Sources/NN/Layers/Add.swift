import Engine

/// Sums two inputs of the same shape: the merge of a residual block.
public final class Add: Layer {
    private var output: Tensor?

    public init() {}

    public func outputShape(for inputShapes: [[Int]]) throws(ShapeError) -> [Int] {
        guard inputShapes.count == 2, inputShapes[0] == inputShapes[1] else {
            throw ShapeError("residual addition needs two inputs of one shape, got \(inputShapes)")
        }
        return inputShapes[0]
    }

    public func forward(_ inputs: [Tensor], context: ForwardContext) -> Tensor {
        let y = Tensor.reusing(output, shape: inputs[0].shape)
        Elementwise.add(inputs[0].pointer, inputs[1].pointer, y.pointer, count: y.count)
        output = y
        return y
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> [Tensor] {
        [outputGradient, outputGradient]
    }
}
