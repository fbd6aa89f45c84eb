import Engine

/// Sums two inputs of the same shape: the merge of a residual block, optionally with the ReLU that follows it fused
/// in (y = max(a + b, 0)), which spares the activation layer's output buffer and a pass over it.
public final class Add: Layer {
    /// Whether the sum goes through a ReLU in the same pass.
    public let fusedReLU: Bool
    private var output: Tensor?
    private var gradients = GradientPool()

    /// A residual sum; `relu` fuses the ReLU that follows it in a ResNet block.
    public init(relu: Bool = false) {
        self.fusedReLU = relu
    }

    public func share(_ memory: SharedMemory) {
        gradients = memory.gradients
    }

    public func outputShape(for inputShapes: [[Int]]) throws(ShapeError) -> [Int] {
        guard inputShapes.count == 2, inputShapes[0] == inputShapes[1] else {
            throw ShapeError("residual addition needs two inputs of one shape, got \(inputShapes)")
        }
        return inputShapes[0]
    }

    public func forward(_ inputs: [Tensor], context: ForwardContext) -> Tensor {
        let y = Tensor.reusing(output, shape: inputs[0].shape)
        Elementwise.add(inputs[0].pointer, inputs[1].pointer, y.pointer, count: y.count)
        if fusedReLU { Elementwise.relu(y.pointer, y.pointer, count: y.count) }
        output = y
        return y
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> [Tensor] {
        guard fusedReLU else { return [outputGradient, outputGradient] }
        // The output is positive exactly where the sum was, so it masks the gradient as the sum would.
        let dx = gradients.tensor(shape: outputGradient.shape)
        Elementwise.reluBackward(input: output!.pointer, outputGradient: outputGradient.pointer,
                                 inputGradient: dx.pointer, count: dx.count)
        return [dx, dx]
    }
}
