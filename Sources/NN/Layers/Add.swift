import Engine

/// Sums two inputs of the same shape: the merge of a residual block, optionally with the ReLU that follows it fused
/// in (y = max(a + b, 0)), which spares a pass over the sum and the activation layer's buffer.
///
/// The sum takes a buffer from the pool. In a ResNet block the first input is a batch norm's output that nothing else
/// reads, and `Model` then has the batch norm compute the sum in its own pass (`BatchNorm.takeResidual`).
public final class Add: Layer {
    /// Whether the sum goes through a ReLU in the same pass.
    public let fusedReLU: Bool
    /// The output, kept for backward only with the fused ReLU, whose mask it is.
    private var output: Tensor?
    private var pool = TensorPool()

    /// A residual sum; `relu` fuses the ReLU that follows it in a ResNet block.
    public init(relu: Bool = false) {
        self.fusedReLU = relu
    }

    public func share(_ memory: SharedMemory) {
        pool = memory.pool
    }

    public func outputShape(for inputShapes: [[Int]]) throws(ShapeError) -> [Int] {
        guard inputShapes.count == 2, inputShapes[0] == inputShapes[1] else {
            throw ShapeError("residual addition needs two inputs of one shape, got \(inputShapes)")
        }
        return inputShapes[0]
    }

    public func forward(_ inputs: [Tensor], context: ForwardContext) -> Tensor {
        let y = pool.tensor(shape: inputs[0].shape)
        if fusedReLU {
            Elementwise.addReLU(inputs[0].pointer, inputs[1].pointer, y.pointer, count: y.count)
        } else {
            Elementwise.add(inputs[0].pointer, inputs[1].pointer, y.pointer, count: y.count)
        }
        output = fusedReLU ? y : nil
        return y
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> [Tensor] {
        guard fusedReLU else { return [outputGradient, outputGradient] }
        // The output is positive exactly where the sum was, so it masks the gradient as the sum would.
        let dx = pool.tensor(shape: outputGradient.shape)
        Elementwise.reluBackward(input: output!.pointer, outputGradient: outputGradient.pointer,
                                 inputGradient: dx.pointer, count: dx.count)
        return [dx, dx]
    }

    public func releaseCaches() {
        output = nil
    }
}
