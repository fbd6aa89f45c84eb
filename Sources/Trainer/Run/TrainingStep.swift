import Comm
import Data
import Engine
import Foundation
import NN

/// One optimizer step of data-parallel training on this rank's slice of a global batch.
///
/// Its body reads as llm.c's loop does: zero, forward, backward (each finished tail of the gradient buffer goes to
/// the reducer, which starts sending it while the earlier layers compute), reduce (wait for what is still in
/// flight), agree on the step's statistics and requests, update. Every rank sees the same summed loss and
/// gradients, so every rank stops at the same check, before the update.
final class TrainingStep {
    /// What a step reports: the global loss sum and correct count, the ranks' agreed requests, and its times.
    struct Outcome {
        let loss: Double, correct: Double
        /// Some rank asked to stop, or rank 0's clock asked for a checkpoint.
        let requests: RunRequests
        let times: StepTimes
    }

    let model: Model
    let optimizer: any Optimizer
    let reducer: any GradientReducer
    private let communicator: any Communicator
    private let seed: UInt64
    private let globalBatch: Int
    /// `optimizer.label_smoothing`: the training loss's smoothing of the targets.
    private let labelSmoothing: Float
    private let checkpointDirectory: String
    /// The gradient of the loss with respect to the logits, reused from step to step.
    private let outputGradient: Tensor

    init(model: Model, optimizer: any Optimizer, reducer: any GradientReducer, communicator: any Communicator,
         seed: UInt64, globalBatch: Int, labelSmoothing: Float = 0, checkpointDirectory: String) {
        self.model = model
        self.optimizer = optimizer
        self.reducer = reducer
        self.communicator = communicator
        self.seed = seed
        self.globalBatch = globalBatch
        self.labelSmoothing = labelSmoothing
        self.checkpointDirectory = checkpointDirectory
        outputGradient = Tensor(zeros: [globalBatch / communicator.size] + model.outputShape)
    }

    /// Takes one step on `batch` at `learningRate`, with this rank's `requests`.
    ///
    /// A rank whose batch could not be read still takes part in the step's collectives, with no gradient, and the
    /// failure rides on the statistics allreduce: every rank stops together and the lowest failing rank reports.
    func callAsFunction(_ batch: Result<Batch, DataError>, epoch: Int, learningRate: Float,
                        requests: RunRequests) throws(TrainerError) -> Outcome {
        let start = ContinuousClock.now
        var lossSum = 0.0, correct = 0
        model.zeroGradients()
        if case .success(let batch) = batch {
            let context = ForwardContext(mode: .training, seed: seed, epoch: epoch, sampleIndices: batch.indices)
            let logits = model.forward(batch.images, context: context)
            lossSum = SoftmaxCrossEntropy.evaluate(logits: logits, labels: batch.labels, normalizer: globalBatch,
                                                   gradient: outputGradient, labelSmoothing: labelSmoothing)
            correct = Accuracy.correct(logits: logits, labels: batch.labels, k: 1)
            model.backward(outputGradient) { reducer.gradientsReady(from: $0) }
        }
        let reduction = reducer.finish()

        let statisticsStart = ContinuousClock.now
        let readFailure: DataError? = if case .failure(let error) = batch { error } else { nil }
        var statistics: [Double] = [lossSum, Double(correct), requests.checkpoint ? 1 : 0, requests.stop ? 1 : 0,
                                    readFailure != nil ? 1 : 0]
        statistics.withUnsafeMutableBufferPointer { communicator.allreduce($0, .sum) }
        let statisticsSeconds = (ContinuousClock.now - statisticsStart) / .seconds(1)
        try communicator.stopIfAnyRankFailed(statistics[4] > 0, failure: readFailure.map { "\($0)" })
        try checkFinite(loss: statistics[0])

        let updateStart = ContinuousClock.now
        optimizer.step(parameters: model.parameters, gradients: model.gradients, learningRate: learningRate)
        model.profile?.addUpdate((ContinuousClock.now - updateStart) / .seconds(1))
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        let exposed = reduction.exposed + statisticsSeconds
        return Outcome(loss: statistics[0], correct: statistics[1],
                       requests: RunRequests(checkpoint: statistics[2] > 0, stop: statistics[3] > 0),
                       times: StepTimes(data: 0, compute: seconds - exposed, exposedCommunication: exposed,
                                        communication: reduction.busy + statisticsSeconds))
    }

    /// Stops the run, before the step's update and before any checkpoint of it, when the loss or a gradient is
    /// NaN or infinite, naming the first parameter whose gradient is.
    private func checkFinite(loss: Double) throws(TrainerError) {
        let gradients = model.gradients
        guard !loss.isFinite || !Reduction.allFinite(gradients.pointer, count: gradients.count) else { return }
        let what = model.firstNonFinite(gradients.pointer).map { "the gradient of \($0.name)" } ?? "the loss"
        let meanLoss = String(format: "%.4g", loss / Double(globalBatch))
        throw communicator.divergence("\(communicator.activity): \(what) is not finite (loss \(meanLoss))",
                                      checkpointDirectory: checkpointDirectory)
    }
}
