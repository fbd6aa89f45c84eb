import Engine

/// Updates a model's flat parameter buffer from its flat gradient buffer.
///
/// Implementations work on the whole buffer in loops over contiguous memory and look at the parameter segments
/// only where a rule needs per-parameter information (weight-decay exemption, LARS trust ratios).
public protocol Optimizer: AnyObject {
    /// One update: `parameters` in place, from `gradients`, with this step's learning rate.
    func step(parameters: Tensor, gradients: Tensor, learningRate: Float)
    /// Everything needed to continue exactly (step count and per-element buffers such as momentum).
    var state: OptimizerState { get }
    /// Restores a saved state; throws if names or sizes do not match this optimizer and model.
    func restore(_ state: OptimizerState) throws(OptimizerStateError)
}
