import Engine
import NN
import Testing

/// A ResNet-20 training step on 1, 2 and 3 compute threads: the loss and the gradient agree to float rounding (the
/// unfolded convolutions' weight gradients are summed in another order on several threads; nothing else changes).
@Suite struct ThreadCountTests {
    @Test func resnet20GradientsDoNotDependOnTheThreadCount() throws {
        let batch = 6
        let input = LayerGradientTests.input([batch, 3, 32, 32], seed: 5)
        let labels = (0..<batch).map { $0 % 10 }
        func step() throws -> (loss: Double, gradient: [Float]) {
            let model = try Model(graph: ModelZoo.resnet20(), inputShape: [3, 32, 32], seed: 9)
            let context = ForwardContext(mode: .training, seed: 3, epoch: 0, sampleIndices: Array(0..<batch))
            let logits = model.forward(input, context: context)
            let gradient = Tensor(zeros: logits.shape)
            let loss = SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels, normalizer: batch,
                                                    gradient: gradient)
            model.zeroGradients()
            model.backward(gradient)
            return (loss, model.gradients.scalars)
        }
        let one = try ComputeThreads.with(threads: 1, step)
        for threads in [2, 3] {
            let many = try ComputeThreads.with(threads: threads, step)
            #expect(abs(many.loss - one.loss) <= 1e-6 * abs(one.loss), "loss on \(threads) threads")
            let difference = zip(many.gradient, one.gradient).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +)
            let norm = one.gradient.map { Double($0) * Double($0) }.reduce(0, +)
            #expect(difference.squareRoot() <= 1e-5 * norm.squareRoot(), "gradient on \(threads) threads")
        }
    }
}
