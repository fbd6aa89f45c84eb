import Engine

/// Sums two inputs of the same shape: the merge of a residual block, optionally with the ReLU that follows it fused
/// in (y = max(a + b, 0)), which spares the activation layer's output buffer and a pass over it.
///
/// With `overwritingFirstInput` the sum is written over the first input, as PyTorch's `out += identity` does in a
/// ResNet block: one activation-sized buffer less per block (ResNet-50, batch 16: 350 MB). The first input must be
/// read by no other layer, and its producer's backward pass must not need it (a batch norm without a fused ReLU
/// needs only its own input).
public final class Add: Layer {
    /// Whether the sum goes through a ReLU in the same pass.
    public let fusedReLU: Bool
    /// Whether the sum is written over the first input.
    public let overwritesFirstInput: Bool
    /// The output, kept for backward only with the fused ReLU, whose mask it is.
    private var output: Tensor?
    private var pool = TensorPool()

    /// A residual sum; `relu` fuses the ReLU that follows it in a ResNet block, `overwritingFirstInput` stores the
    /// sum in the first input's buffer.
    public init(relu: Bool = false, overwritingFirstInput: Bool = false) {
        self.fusedReLU = relu
        self.overwritesFirstInput = overwritingFirstInput
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
        let y = overwritesFirstInput ? inputs[0] : pool.tensor(shape: inputs[0].shape)
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
