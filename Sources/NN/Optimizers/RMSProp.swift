import Engine

/// RMSProp (Tieleman and Hinton 2012), as PyTorch's `torch.optim.RMSprop`.
///
/// Per element, with weight decay `wd` (0 where exempt):
///
///     g = grad + wd * p
///     square_avg = alpha * square_avg + (1 - alpha) * g * g
///     centered:  grad_avg = grad_avg + (1 - alpha) * (g - grad_avg)
///                avg = sqrt(square_avg - grad_avg * grad_avg) + eps
///     otherwise: avg = sqrt(square_avg) + eps
///     momentum:  buf = m * buf + g / avg;  p = p - lr * buf
///     otherwise: p = p - lr * g / avg
public final class RMSProp: Optimizer {
    /// The smoothing constant of the running mean of squared gradients (the course's gamma).
    ///
    /// Double because PyTorch forms 1 - alpha in double precision before rounding it to Float32.
    public let alpha: Double
    /// Added to the root mean square to keep the division finite.
    public let epsilon: Float
    /// The momentum factor; 0 for none.
    public let momentum: Float
    /// Whether to normalize by the variance estimate instead of the raw second moment.
    public let centered: Bool
    /// The L2 penalty added to the gradient.
    public let weightDecay: Float
    /// Whether biases and normalization parameters are exempt from weight decay.
    public let exemptBiasAndNormalization: Bool

    private let decayRuns: DecayRuns
    private let squareAverage: Tensor
    private let gradientAverage: Tensor?
    private let momentumBuffer: Tensor?
    private var stepCount = 0

    /// An optimizer for the parameters described by `segments`, with PyTorch's defaults.
    public init(segments: [ParameterSegment], alpha: Double = 0.99, epsilon: Float = 1e-8, momentum: Float = 0,
                centered: Bool = false, weightDecay: Float = 0, exemptBiasAndNormalization: Bool = false) {
        precondition(alpha >= 0 && alpha <= 1, "RMSProp: alpha \(alpha) is outside [0, 1]")
        precondition(momentum >= 0, "RMSProp: momentum \(momentum) is negative")
        self.alpha = alpha
        self.epsilon = epsilon
        self.momentum = momentum
        self.centered = centered
        self.weightDecay = weightDecay
        self.exemptBiasAndNormalization = exemptBiasAndNormalization
        decayRuns = DecayRuns(segments: segments, exemptingBiasAndNormalization: exemptBiasAndNormalization)
        squareAverage = Tensor(zeros: [decayRuns.count])
        gradientAverage = centered ? Tensor(zeros: [decayRuns.count]) : nil
        momentumBuffer = momentum > 0 ? Tensor(zeros: [decayRuns.count]) : nil
    }

    public func step(parameters: Tensor, gradients: Tensor, learningRate: Float) {
        decayRuns.check(parameters: parameters, gradients: gradients, optimizer: "RMSProp")
        let p = parameters.pointer, grad = gradients.pointer, sq = squareAverage.pointer
        let lr = learningRate, a = Float(alpha), oneMinusA = Float(1 - alpha), eps = epsilon, m = momentum
        let ga = gradientAverage?.pointer, buf = momentumBuffer?.pointer
        for run in decayRuns.runs {
            let wd = run.decays ? weightDecay : 0
            for i in run.range {
                let g = grad[i] + wd * p[i]
                sq[i] = a * sq[i] + oneMinusA * (g * g)
                let avg: Float
                if let ga {
                    ga[i] += oneMinusA * (g - ga[i])
                    avg = (sq[i] - ga[i] * ga[i]).squareRoot() + eps
                } else {
                    avg = sq[i].squareRoot() + eps
                }
                if let buf {
                    buf[i] = m * buf[i] + g / avg
                    p[i] -= lr * buf[i]
                } else {
                    p[i] -= lr * g / avg
                }
            }
        }
        stepCount += 1
    }

    public var state: OptimizerState { OptimizerState(step: stepCount, tensors: buffers) }

    public func restore(_ state: OptimizerState) throws(OptimizerStateError) {
        try state.copy(into: buffers, optimizer: "RMSProp")
        stepCount = state.step
    }

    private var buffers: [String: Tensor] {
        var buffers = ["square_avg": squareAverage]
        buffers["grad_avg"] = gradientAverage
        buffers["momentum_buffer"] = momentumBuffer
        return buffers
    }
}
