/// Where training stands: everything besides tensors that a resumed run needs to continue exactly.
public struct CheckpointState: Sendable, Equatable {
    /// Optimizer steps completed, which is also the learning-rate schedule's position.
    public var step: Int
    /// The epoch of the next step.
    public var epoch: Int
    /// The steps of `epoch` already done: the global sampler's cursor.
    public var stepInEpoch: Int
    /// The run's seed, from which the sampler's order and the initial parameters follow.
    public var seed: UInt64
    /// The number of ranks that wrote the checkpoint.
    public var worldSize: Int
    /// The samples per optimizer step over all ranks.
    public var globalBatch: Int
    /// The resolved config of the run, as TOML text.
    public var configText: String
    /// The last logged figures (e.g. "loss", "accuracy", "top1"); may be empty.
    public var metrics: [String: Double]

    /// A state with the given values.
    public init(step: Int, epoch: Int, stepInEpoch: Int, seed: UInt64, worldSize: Int, globalBatch: Int,
                configText: String, metrics: [String: Double]) {
        self.step = step
        self.epoch = epoch
        self.stepInEpoch = stepInEpoch
        self.seed = seed
        self.worldSize = worldSize
        self.globalBatch = globalBatch
        self.configText = configText
        self.metrics = metrics
    }
}
