import Engine

/// AdaGrad (Duchi, Hazan, Singer 2011), as PyTorch's `torch.optim.Adagrad`.
///
/// Per element, at step t (from 1), with weight decay `wd` (0 where exempt):
///
///     g = grad + wd * p
///     sum = sum + g * g
///     p = p - lr / (1 + (t - 1) * lrDecay) * g / (sqrt(sum) + eps)
public final class AdaGrad: Optimizer {
    /// How fast the learning rate shrinks with the step count.
    public let learningRateDecay: Float
    /// The value every accumulator starts at.
    public let initialAccumulatorValue: Float
    /// Added to the root of the accumulator to keep the division finite.
    public let epsilon: Float
    /// The L2 penalty added to the gradient.
    public let weightDecay: Float
    /// Whether biases and normalization parameters are exempt from weight decay.
    public let exemptBiasAndNormalization: Bool

    private let decayRuns: DecayRuns
    private let sum: Tensor
    private var stepCount = 0

    /// An optimizer for the parameters described by `segments`, with PyTorch's defaults.
    public init(segments: [ParameterSegment], learningRateDecay: Float = 0, initialAccumulatorValue: Float = 0,
                epsilon: Float = 1e-10, weightDecay: Float = 0, exemptBiasAndNormalization: Bool = false) {
        precondition(initialAccumulatorValue >= 0, "AdaGrad: initial accumulator \(initialAccumulatorValue) is negative")
        self.learningRateDecay = learningRateDecay
        self.initialAccumulatorValue = initialAccumulatorValue
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.exemptBiasAndNormalization = exemptBiasAndNormalization
        decayRuns = DecayRuns(segments: segments, exemptingBiasAndNormalization: exemptBiasAndNormalization)
        sum = Tensor(zeros: [decayRuns.count])
        sum.fill(initialAccumulatorValue)
    }

    public func step(parameters: Tensor, gradients: Tensor, learningRate: Float) {
        decayRuns.check(parameters: parameters, gradients: gradients, optimizer: "AdaGrad")
        stepCount += 1
        // PyTorch computes the decayed rate in double precision, once per step.
        let clr = Float(Double(learningRate) / (1 + Double(stepCount - 1) * Double(learningRateDecay)))
        let p = parameters.pointer, grad = gradients.pointer, s = sum.pointer, eps = epsilon
        for run in decayRuns.runs {
            let wd = run.decays ? weightDecay : 0
            for i in run.range {
                let g = grad[i] + wd * p[i]
                s[i] += g * g
                p[i] -= clr * g / (s[i].squareRoot() + eps)
            }
        }
    }

    public var state: OptimizerState { OptimizerState(step: stepCount, tensors: ["sum": sum]) }

    public func restore(_ state: OptimizerState) throws(OptimizerStateError) {
        try state.copy(into: ["sum": sum], optimizer: "AdaGrad")
        stepCount = state.step
    }
}
