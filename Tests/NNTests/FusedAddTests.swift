import Engine
import NN
import Testing

/// The residual sum with its ReLU fused against Add then Activation(.relu): the same output and input gradients.
@Suite struct FusedAddTests {
    @Test func matchesAddThenReLU() {
        let shape = [3, 4, 5, 7]
        let a = Tensor(zeros: shape), b = Tensor(zeros: shape), dy = Tensor(zeros: shape)
        Philox(seed: 31).fillNormal(a.pointer, count: a.count, stream: 0)
        Philox(seed: 31).fillNormal(b.pointer, count: b.count, stream: 1)
        Philox(seed: 31).fillNormal(dy.pointer, count: dy.count, stream: 2)
        let context = ForwardContext.training(batchSize: shape[0])
        let fused = Add(relu: true), plain = Add(), relu = Activation(.relu)
        let fusedOutput = fused.forward([a, b], context: context)
        let plainOutput = relu.forward([plain.forward([a, b], context: context)], context: context)
        #expect(fusedOutput.scalars == plainOutput.scalars, "output")
        let fusedGradients = fused.backward(dy, needsInputGradient: true)
        let plainGradients = plain.backward(relu.backward(dy, needsInputGradient: true)[0], needsInputGradient: true)
        #expect(fusedGradients.count == 2 && plainGradients.count == 2)
        for (f, p) in zip(fusedGradients, plainGradients) {
            #expect(f.scalars == p.scalars, "input gradient")
        }
    }
}
