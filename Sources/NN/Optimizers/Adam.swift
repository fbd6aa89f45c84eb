import Foundation
import Engine

/// Adam (Kingma and Ba 2015), as PyTorch's `torch.optim.Adam` (without AMSGrad).
///
/// Per element, at step t (from 1), with weight decay `wd` (0 where exempt) added to the gradient as an L2 penalty:
///
///     g = grad + wd * p
///     exp_avg = exp_avg + (1 - beta1) * (g - exp_avg)
///     exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g * g
///     p = p - lr / (1 - beta1^t) * exp_avg / (sqrt(exp_avg_sq) / sqrt(1 - beta2^t) + eps)
///
/// The bias corrections are computed in double precision once per step, as PyTorch does; eps is added outside the
/// square root. `AdamW` is the same update with decoupled weight decay.
public final class Adam: Optimizer {
    /// The decay rate of the first-moment estimate.
    ///
    /// The betas are Double because PyTorch forms 1 - beta and beta^t in double precision before rounding to
    /// Float32; from a Float beta2 of 0.999, 1 - beta2 would be off by 1.3e-5 relative.
    public let beta1: Double
    /// The decay rate of the second-moment estimate.
    public let beta2: Double
    /// Added to the denominator to keep the division finite.
    public let epsilon: Float
    /// The weight decay coefficient.
    public let weightDecay: Float
    /// Whether biases and normalization parameters are exempt from weight decay.
    public let exemptBiasAndNormalization: Bool

    private let decoupledWeightDecay: Bool
    private let name: String
    private let decayRuns: DecayRuns
    private let expAvg: Tensor
    private let expAvgSq: Tensor
    private var stepCount = 0

    /// An optimizer for the parameters described by `segments`, with PyTorch's defaults.
    public convenience init(segments: [ParameterSegment], beta1: Double = 0.9, beta2: Double = 0.999,
                            epsilon: Float = 1e-8, weightDecay: Float = 0, exemptBiasAndNormalization: Bool = false) {
        self.init(segments: segments, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
                  exemptBiasAndNormalization: exemptBiasAndNormalization, decoupledWeightDecay: false)
    }

    /// Adam with the weight decay either added to the gradient or, when `decoupledWeightDecay`, applied to the
    /// parameters directly (`p *= 1 - lr * wd` before the update, as PyTorch's AdamW).
    init(segments: [ParameterSegment], beta1: Double, beta2: Double, epsilon: Float, weightDecay: Float,
         exemptBiasAndNormalization: Bool, decoupledWeightDecay: Bool) {
        name = decoupledWeightDecay ? "AdamW" : "Adam"
        precondition(beta1 >= 0 && beta1 < 1, "\(name): beta1 \(beta1) is outside [0, 1)")
        precondition(beta2 >= 0 && beta2 < 1, "\(name): beta2 \(beta2) is outside [0, 1)")
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.exemptBiasAndNormalization = exemptBiasAndNormalization
        self.decoupledWeightDecay = decoupledWeightDecay
        decayRuns = DecayRuns(segments: segments, exemptingBiasAndNormalization: exemptBiasAndNormalization)
        expAvg = Tensor(zeros: [decayRuns.count])
        expAvgSq = Tensor(zeros: [decayRuns.count])
    }

    public func step(parameters: Tensor, gradients: Tensor, learningRate: Float) {
        decayRuns.check(parameters: parameters, gradients: gradients, optimizer: name)
        stepCount += 1
        let t = Double(stepCount)
        let biasCorrection1 = 1 - pow(beta1, t)
        let biasCorrection2Root = (1 - pow(beta2, t)).squareRoot()
        let stepSize = Float(Double(learningRate) / biasCorrection1)
        let rootCorrection = Float(biasCorrection2Root)
        let p = parameters.pointer, grad = gradients.pointer, m = expAvg.pointer, v = expAvgSq.pointer
        let oneMinusBeta1 = Float(1 - beta1), b2 = Float(beta2), oneMinusBeta2 = Float(1 - beta2), eps = epsilon
        for run in decayRuns.runs {
            let wd = run.decays ? weightDecay : 0
            // Decoupled decay shrinks the parameters and leaves the gradient alone; L2 decay does the reverse.
            let shrink = decoupledWeightDecay ? Float(1 - Double(learningRate) * Double(wd)) : 1
            let l2 = decoupledWeightDecay ? 0 : wd
            for i in run.range {
                p[i] *= shrink
                let g = grad[i] + l2 * p[i]
                m[i] += oneMinusBeta1 * (g - m[i])
                v[i] = b2 * v[i] + oneMinusBeta2 * (g * g)
                p[i] -= stepSize * m[i] / (v[i].squareRoot() / rootCorrection + eps)
            }
        }
    }

    public var state: OptimizerState { OptimizerState(step: stepCount, tensors: buffers) }

    public func restore(_ state: OptimizerState) throws(OptimizerStateError) {
        try state.copy(into: buffers, optimizer: name)
        stepCount = state.step
    }

    private var buffers: [String: Tensor] { ["exp_avg": expAvg, "exp_avg_sq": expAvgSq] }
}
