import Engine

/// The memory a model's layers share because the model runs them one at a time: one scratch workspace, and a pool
/// for the gradients that backward passes hand from layer to layer.
public final class SharedMemory {
    /// Scratch space whose contents last for one kernel call (the convolutions' unfolded images).
    public let workspace = Workspace()
    /// The input gradients of backward passes.
    public let gradients = GradientPool()

    public init() {}
}
