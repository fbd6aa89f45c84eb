/// Whether a forward pass trains (batch statistics, dropout on) or evaluates.
public enum Mode: Sendable {
    case training, evaluation
}

/// What a forward pass needs besides its inputs.
///
/// Randomness inside the network (dropout) is keyed by (seed, epoch, layer, global sample index), so a sample's
/// mask is the same whichever rank computes it and however the run was interrupted.
public struct ForwardContext: Sendable {
    /// Training or evaluation.
    public var mode: Mode
    /// The run's seed.
    public var seed: UInt64
    /// The epoch the batch belongs to.
    public var epoch: Int
    /// The global index of each sample of the batch, in batch order.
    public var sampleIndices: [Int]
    /// The position of the layer in its model, set by the model so that each layer draws from its own streams.
    public var layerIndex: Int = 0

    public init(mode: Mode, seed: UInt64 = 0, epoch: Int = 0, sampleIndices: [Int]) {
        self.mode = mode
        self.seed = seed
        self.epoch = epoch
        self.sampleIndices = sampleIndices
    }

    /// An evaluation context for a batch of `batchSize` samples numbered from zero.
    public static func evaluation(batchSize: Int) -> ForwardContext {
        ForwardContext(mode: .evaluation, sampleIndices: Array(0..<batchSize))
    }

    /// A training context for a batch of `batchSize` samples numbered from zero.
    public static func training(batchSize: Int, seed: UInt64 = 0, epoch: Int = 0) -> ForwardContext {
        ForwardContext(mode: .training, seed: seed, epoch: epoch, sampleIndices: Array(0..<batchSize))
    }
}
