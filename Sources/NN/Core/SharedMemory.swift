import Engine

/// The memory a model's layers share because the model runs them one at a time: one scratch workspace, and a pool
/// for the activations and gradients that forward and backward passes hand from layer to layer.
public final class SharedMemory {
    /// Scratch space whose contents last for one kernel call (the convolutions' unfolded images).
    public let workspace = Workspace()
    /// The layers' forward outputs and input gradients, and the model's sums at residual branch points.
    public let pool = TensorPool()

    public init() {}
}
