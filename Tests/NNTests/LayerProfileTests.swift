import Engine
import NN
import Testing

/// A profiled training step times every layer, and the convolutions' weight gradients apart, without changing a
/// bit of the gradients (a convolution then computes its two gradients in two calls instead of one).
@Suite struct LayerProfileTests {
    @Test func profiledStepTimesEveryLayerAndKeepsTheGradients() throws {
        let batch = 4
        let input = LayerGradientTests.input([batch, 3, 32, 32], seed: 6)
        func step(profiled: Bool) throws -> (gradients: [Float], profile: LayerProfile?) {
            let model = try Model(graph: ModelZoo.resnet20(), inputShape: [3, 32, 32], seed: 2)
            if profiled { model.profile = LayerProfile(model: model) }
            let context = ForwardContext(mode: .training, seed: 3, epoch: 0, sampleIndices: Array(0..<batch))
            let logits = model.forward(input, context: context)
            let gradient = Tensor(zeros: logits.shape)
            _ = SoftmaxCrossEntropy.evaluate(logits: logits, labels: [1, 2, 3, 4], normalizer: batch, gradient: gradient)
            model.zeroGradients()
            model.backward(gradient)
            return (model.gradients.scalars, model.profile)
        }
        let plain = try step(profiled: false), profiled = try step(profiled: true)
        #expect(plain.gradients == profiled.gradients)
        let rows = try #require(profiled.profile).rows
        #expect(rows.count == ModelZoo.resnet20().entries.count)
        // Each block's residual sum runs in its last batch norm's pass.
        #expect(rows.filter { $0.kind == "Add" }.allSatisfy { $0.fusedInto?.hasSuffix(".bn2") == true })
        #expect(rows.count { $0.fusedInto != nil } == 9)
        #expect(rows.allSatisfy { $0.fusedInto != nil || ($0.forwardSeconds > 0 && $0.backwardSeconds > 0) })
        for row in rows {
            if row.kind == "Conv2D" {
                let weights = try #require(row.weightGradientSeconds, "\(row.name) reports no weight gradient")
                #expect(weights > 0 && weights <= row.backwardSeconds, "\(row.name)")
            } else {
                #expect(row.weightGradientSeconds == nil, "\(row.name)")
            }
        }
    }
}
