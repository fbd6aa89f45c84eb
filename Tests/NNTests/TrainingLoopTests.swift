import Engine
import NN
import Testing

/// "Debug on a small dataset": a single-process training loop must drive the loss on a few fixed samples to
/// nearly zero, which fails if any forward, backward or update step is wrong.
@Suite struct TrainingLoopTests {
    /// Trains on `samples` fixed random images with fixed random labels and returns the losses per step.
    func overfit(_ graph: Graph, inputShape: [Int], samples: Int, classes: Int, steps: Int,
                 optimizer makeOptimizer: ([ParameterSegment]) -> any Optimizer, learningRate: Float) throws -> [Double] {
        let model = try Model(graph: graph, inputShape: inputShape, seed: 1)
        let optimizer = makeOptimizer(model.parameterSegments)
        let input = Tensor(zeros: [samples] + inputShape)
        Philox(seed: 2).fillNormal(input.pointer, count: input.count, stream: 0)
        let labels = (0..<samples).map { Int(Philox(seed: 2).uniform(stream: 1, index: UInt64($0)) * Float(classes)) }
        let gradient = Tensor(zeros: [samples, classes])
        var losses: [Double] = []
        for step in 0..<steps {
            let context = ForwardContext(mode: .training, seed: 3, epoch: step, sampleIndices: Array(0..<samples))
            model.zeroGradients()
            let logits = model.forward(input, context: context)
            losses.append(SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels, normalizer: samples,
                                                       gradient: gradient) / Double(samples))
            model.backward(gradient)
            optimizer.step(parameters: model.parameters, gradients: model.gradients, learningRate: learningRate)
        }
        return losses
    }

    @Test func lenet5MemorisesThirtyTwoImages() throws {
        let losses = try overfit(ModelZoo.lenet5(inputSize: 28, activation: .tanh), inputShape: [1, 28, 28],
                                 samples: 32, classes: 10, steps: 150,
                                 optimizer: { SGD(segments: $0, momentum: 0.9) }, learningRate: 0.05)
        print("lenet5 loss: first \(losses.first!), last \(losses.last!)")
        #expect(losses.first! > 2)
        #expect(losses.last! < 0.01)
    }

    @Test func resnet20MemorisesSixteenImages() throws {
        let losses = try overfit(ModelZoo.resnet20(), inputShape: [3, 32, 32], samples: 16, classes: 10, steps: 60,
                                 optimizer: { Adam(segments: $0) }, learningRate: 1e-2)
        print("resnet20 loss: first \(losses.first!), last \(losses.last!)")
        #expect(losses.first! > 1.5)
        #expect(losses.last! < 0.01)
    }

    @Test func mlpWithDropoutMemorisesSixtyFourVectors() throws {
        let losses = try overfit(ModelZoo.mlp(inputShape: [20], hiddenSizes: [64, 64], classes: 5, dropout: 0.1),
                                 inputShape: [20], samples: 64, classes: 5, steps: 300,
                                 optimizer: { Adam(segments: $0) }, learningRate: 3e-3)
        print("mlp loss: first \(losses.first!), last \(losses.last!)")
        #expect(losses.last! < 0.05)
    }
}
