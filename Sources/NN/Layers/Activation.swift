import Engine

/// An elementwise nonlinearity: ReLU, tanh or the logistic sigmoid.
///
/// Backward reads the output alone (a ReLU's output is positive exactly where its input is), which the next layer
/// usually keeps too, so the input goes back to the pool once the layers reading it have run.
public final class Activation: Layer {
    /// The nonlinearities available.
    public enum Kind: String, Sendable, CaseIterable {
        case relu, tanh, sigmoid
    }

    /// Which nonlinearity this layer applies.
    public let kind: Kind
    private var output: Tensor?
    private var pool = TensorPool()

    public init(_ kind: Kind) {
        self.kind = kind
    }

    public func share(_ memory: SharedMemory) {
        pool = memory.pool
    }

    public func outputShape(for inputShapes: [[Int]]) throws(ShapeError) -> [Int] {
        inputShapes[0]
    }

    public func forward(_ inputs: [Tensor], context: ForwardContext) -> Tensor {
        let x = inputs[0]
        let y = pool.tensor(shape: x.shape)
        switch kind {
        case .relu: Elementwise.relu(x.pointer, y.pointer, count: x.count)
        case .tanh: Elementwise.tanh(x.pointer, y.pointer, count: x.count)
        case .sigmoid: Elementwise.sigmoid(x.pointer, y.pointer, count: x.count)
        }
        output = y
        return y
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> [Tensor] {
        guard needsInputGradient else { return [] }
        let dy = outputGradient
        let dx = pool.tensor(shape: dy.shape)
        switch kind {
        case .relu:
            Elementwise.reluBackward(input: output!.pointer, outputGradient: dy.pointer, inputGradient: dx.pointer, count: dy.count)
        case .tanh:
            Elementwise.tanhBackward(output: output!.pointer, outputGradient: dy.pointer, inputGradient: dx.pointer, count: dy.count)
        case .sigmoid:
            Elementwise.sigmoidBackward(output: output!.pointer, outputGradient: dy.pointer, inputGradient: dx.pointer, count: dy.count)
        }
        return [dx]
    }

    public func releaseCaches() {
        output = nil
    }
}
