import Engine

/// An elementwise nonlinearity: ReLU, tanh or the logistic sigmoid.
public final class Activation: Layer {
    /// The nonlinearities available.
    public enum Kind: String, Sendable, CaseIterable {
        case relu, tanh, sigmoid
    }

    /// Which nonlinearity this layer applies.
    public let kind: Kind
    private var input: Tensor?
    private var output: Tensor?
    private var gradients = GradientPool()

    public init(_ kind: Kind) {
        self.kind = kind
    }

    public func share(_ memory: SharedMemory) {
        gradients = memory.gradients
    }

    public func outputShape(for inputShapes: [[Int]]) throws(ShapeError) -> [Int] {
        inputShapes[0]
    }

    public func forward(_ inputs: [Tensor], context: ForwardContext) -> Tensor {
        let x = inputs[0]
        let y = Tensor.reusing(output, shape: x.shape)
        switch kind {
        case .relu: Elementwise.relu(x.pointer, y.pointer, count: x.count)
        case .tanh: Elementwise.tanh(x.pointer, y.pointer, count: x.count)
        case .sigmoid: Elementwise.sigmoid(x.pointer, y.pointer, count: x.count)
        }
        input = x
        output = y
        return y
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> [Tensor] {
        guard needsInputGradient else { return [] }
        let dy = outputGradient
        let dx = gradients.tensor(shape: dy.shape)
        switch kind {
        case .relu:
            Elementwise.reluBackward(input: input!.pointer, outputGradient: dy.pointer, inputGradient: dx.pointer, count: dy.count)
        case .tanh:
            Elementwise.tanhBackward(output: output!.pointer, outputGradient: dy.pointer, inputGradient: dx.pointer, count: dy.count)
        case .sigmoid:
            Elementwise.sigmoidBackward(output: output!.pointer, outputGradient: dy.pointer, inputGradient: dx.pointer, count: dy.count)
        }
        return [dx]
    }
}
