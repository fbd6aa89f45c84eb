import Engine

/// AdamW (Loshchilov and Hutter 2019), as PyTorch's `torch.optim.AdamW`: Adam with decoupled weight decay.
///
/// Per element, at step t (from 1), with weight decay `wd` (0 where exempt):
///
///     p = p * (1 - lr * wd)
///     then Adam's update of p from the raw gradient (see `Adam`).
public final class AdamW: Optimizer {
    private let adam: Adam

    /// The decay rate of the first-moment estimate.
    public var beta1: Double { adam.beta1 }
    /// The decay rate of the second-moment estimate.
    public var beta2: Double { adam.beta2 }
    /// Added to the denominator to keep the division finite.
    public var epsilon: Float { adam.epsilon }
    /// The decoupled weight decay coefficient (scaled by the learning rate).
    public var weightDecay: Float { adam.weightDecay }
    /// Whether biases and normalization parameters are exempt from weight decay.
    public var exemptBiasAndNormalization: Bool { adam.exemptBiasAndNormalization }

    /// An optimizer for the parameters described by `segments`, with PyTorch's defaults (weight decay 0.01).
    public init(segments: [ParameterSegment], beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0.01, exemptBiasAndNormalization: Bool = false) {
        adam = Adam(segments: segments, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
                    exemptBiasAndNormalization: exemptBiasAndNormalization, decoupledWeightDecay: true)
    }

    public func step(parameters: Tensor, gradients: Tensor, learningRate: Float) {
        adam.step(parameters: parameters, gradients: gradients, learningRate: learningRate)
    }

    public var state: OptimizerState { adam.state }

    public func restore(_ state: OptimizerState) throws(OptimizerStateError) {
        try adam.restore(state)
    }
}
