import Data
import Engine
import NN

extension Trainer {
    /// The centred-difference check of the configured model, freshly initialised from the run's seed, on the first
    /// `samples` samples of its training set (un-augmented): one result per parameter tensor, `elements` of its
    /// elements evenly spread, perturbed by `step`.
    public func gradientCheck(samples: Int, step: Float, elements: Int) throws(TrainerError) -> [GradientCheck.Result] {
        let train = try collectively { try openBatches(config.data.train, training: false, cacheBytes: 0) }
        let model = try collectively {
            let graph = try config.model.makeGraph(inputShape: train.sampleShape, classes: train.classNames.count)
            return try Model(graph: graph, inputShape: train.sampleShape, seed: config.run.seed)
        }
        let batch = try collectively { try train.load(rows: 0..<min(samples, train.count)) }
        // Training mode, so batch norm uses the batch's statistics and dropout is on, with draws fixed by the context.
        let context = ForwardContext(mode: .training, seed: config.run.seed, epoch: 0, sampleIndices: batch.indices)
        return GradientCheck.check(model: model, input: batch.images, labels: batch.labels, context: context, step: step,
                                   maxElements: elements)
    }
}
