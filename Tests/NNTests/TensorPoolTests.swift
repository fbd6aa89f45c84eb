import Engine
import NN
import Testing

@Suite struct TensorPoolTests {
    @Test func storageIsReusedOnlyOnceReleased() {
        let pool = TensorPool()
        var held: Tensor? = pool.tensor(shape: [4, 8])
        let first = held!.pointer
        let second = pool.tensor(shape: [4, 8])
        #expect(second.pointer != first, "a tensor still held is handed out again")
        held = nil
        let third = pool.tensor(shape: [2, 16])
        #expect(third.pointer == first, "released storage of the same size is not reused")
        #expect(held == nil && second.count == 32)
    }

    @Test func smallRequestsDoNotTakeLargeBuffers() {
        let pool = TensorPool()
        var large: Tensor? = pool.tensor(shape: [1000])
        let largePointer = large!.pointer
        large = nil
        let small = pool.tensor(shape: [10])
        #expect(small.pointer != largePointer && large == nil)
    }

    /// A model's activations come from its pool and go back to it as they are consumed: an output the caller holds
    /// survives later passes, and an evaluation forward between two training steps changes neither their outputs
    /// nor their gradients.
    @Test func heldOutputsSurviveLaterPasses() throws {
        let model = try Model(graph: ModelGradientTests.residualGraph(), inputShape: [2, 6, 6], seed: 11)
        let input = LayerGradientTests.input([4, 2, 6, 6], seed: 12)
        let outputGradient = LayerGradientTests.input([4, 3], seed: 13)
        func trainingStep() -> (output: Tensor, gradients: [Float]) {
            model.zeroGradients()
            let output = model.forward(input, context: .training(batchSize: 4))
            model.backward(outputGradient)
            return (output, model.gradients.scalars)
        }
        let first = trainingStep()
        let firstOutput = first.output.scalars
        let evaluation = model.forward(input, context: .evaluation(batchSize: 4))
        let evaluationOutput = evaluation.scalars
        let second = trainingStep()
        #expect(second.output.scalars == firstOutput && second.gradients == first.gradients)
        #expect(first.output.scalars == firstOutput, "a held training output was overwritten")
        #expect(evaluation.scalars == evaluationOutput, "a held evaluation output was overwritten")
    }
}
