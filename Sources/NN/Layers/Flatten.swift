import Engine

/// Views [N, d1, d2, ...] as [N, d1 * d2 * ...]; no copy in either direction.
public final class Flatten: Layer {
    private var inputShape: [Int] = []

    public init() {}

    public func outputShape(for inputShapes: [[Int]]) throws(ShapeError) -> [Int] {
        let shape = inputShapes[0]
        guard shape.count >= 2 else { throw ShapeError("flatten expects a batch of samples, got \(shape)") }
        return [shape[0], shape.dropFirst().reduce(1, *)]
    }

    public func forward(_ inputs: [Tensor], context: ForwardContext) -> Tensor {
        let x = inputs[0]
        inputShape = x.shape
        return x.reshaped([x.shape[0], x.count / max(x.shape[0], 1)])
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> [Tensor] {
        needsInputGradient ? [outputGradient.reshaped(inputShape)] : []
    }
}
