import Engine
import NN
import Testing

/// Batch norm with its ReLU (and residual sum) fused against the layers it replaces, BatchNorm then
/// Activation(.relu) (or Add(relu:)): the same output, input gradients, parameter gradients and running statistics,
/// in training and in evaluation.
@Suite struct FusedBatchNormTests {
    /// Binds `layer` to fresh parameter, gradient and buffer views filled as a model would (γ varied around 1).
    static func bound(_ layer: BatchNorm) -> (parameters: [Tensor], gradients: [Tensor], buffers: [Tensor]) {
        let parameters = layer.parameterSpecs.map { Tensor(zeros: $0.shape) }
        let gradients = layer.parameterSpecs.map { Tensor(zeros: $0.shape) }
        let buffers = layer.bufferSpecs.map { spec -> Tensor in
            let t = Tensor(zeros: spec.shape)
            t.fill(spec.initialValue)
            return t
        }
        for c in 0..<layer.channels {
            parameters[0].pointer[c] = 1 + 0.3 * Float(c) - 0.4
            parameters[1].pointer[c] = 0.2 * Float(c) - 0.3
        }
        layer.bind(parameters: parameters, gradients: gradients, buffers: buffers)
        return (parameters, gradients, buffers)
    }

    @Test(arguments: [Mode.training, Mode.evaluation])
    func matchesBatchNormThenReLU(mode: Mode) {
        let shape = [3, 4, 5, 7]
        let x = Tensor(zeros: shape), dy = Tensor(zeros: shape)
        Philox(seed: 21).fillNormal(x.pointer, count: x.count, stream: 0)
        Philox(seed: 21).fillNormal(dy.pointer, count: dy.count, stream: 1)
        let context = ForwardContext(mode: mode, sampleIndices: Array(0..<shape[0]))

        let fused = BatchNorm(4, relu: true), plain = BatchNorm(4), relu = Activation(.relu)
        let fusedState = Self.bound(fused), plainState = Self.bound(plain)
        let fusedOutput = fused.forward([x], context: context)
        let plainOutput = relu.forward([plain.forward([x], context: context)], context: context)
        let fusedGradient = fused.backward(dy, needsInputGradient: true)[0]
        let plainGradient = plain.backward(relu.backward(dy, needsInputGradient: true)[0], needsInputGradient: true)[0]

        #expect(fusedOutput.scalars == plainOutput.scalars, "output")
        #expect(fusedGradient.scalars == plainGradient.scalars, "input gradient")
        for (a, b) in zip(fusedState.gradients, plainState.gradients) {
            #expect(a.scalars == b.scalars, "parameter gradient")
        }
        for (a, b) in zip(fusedState.buffers, plainState.buffers) {
            #expect(a.scalars == b.scalars, "running statistics")
        }
    }

    @Test(arguments: [Mode.training, Mode.evaluation], [false, true])
    func withResidualMatchesBatchNormThenAdd(mode: Mode, relu: Bool) {
        let shape = [3, 4, 5, 7]
        let x = Tensor(zeros: shape), shortcut = Tensor(zeros: shape), dy = Tensor(zeros: shape)
        Philox(seed: 22).fillNormal(x.pointer, count: x.count, stream: 0)
        Philox(seed: 22).fillNormal(shortcut.pointer, count: shortcut.count, stream: 1)
        Philox(seed: 22).fillNormal(dy.pointer, count: dy.count, stream: 2)
        let context = ForwardContext(mode: mode, sampleIndices: Array(0..<shape[0]))

        let fused = BatchNorm(4), plain = BatchNorm(4), add = Add(relu: relu)
        #expect(fused.takeResidual(relu: relu))
        let fusedState = Self.bound(fused), plainState = Self.bound(plain)
        let fusedOutput = fused.forward([x, shortcut], context: context)
        let plainOutput = add.forward([plain.forward([x], context: context), shortcut], context: context)
        let fusedSumGradient = fused.residualGradient(dy)
        let fusedGradient = fused.backward(fusedSumGradient, needsInputGradient: true)[0]
        let sumGradients = add.backward(dy, needsInputGradient: true)
        let plainGradient = plain.backward(sumGradients[0], needsInputGradient: true)[0]

        #expect(fusedOutput.scalars == plainOutput.scalars, "output")
        #expect(fusedSumGradient.scalars == sumGradients[1].scalars, "shortcut gradient")
        #expect(fusedGradient.scalars == plainGradient.scalars, "input gradient")
        for (a, b) in zip(fusedState.gradients, plainState.gradients) {
            #expect(a.scalars == b.scalars, "parameter gradient")
        }
        for (a, b) in zip(fusedState.buffers, plainState.buffers) {
            #expect(a.scalars == b.scalars, "running statistics")
        }
    }
}
