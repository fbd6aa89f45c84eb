import Engine

/// Stochastic gradient descent with optional momentum and Nesterov momentum, as PyTorch's `torch.optim.SGD`
/// with dampening 0.
///
/// Per element, with weight decay `wd` (0 where exempt), momentum `m` and learning rate `lr`:
///
///     g = grad + wd * p
///     buf = m * buf + g          (buf = g on the first step)
///     d = nesterov ? g + m * buf : buf      (d = g when m = 0)
///     p = p - lr * d
public final class SGD: Optimizer {
    /// The momentum factor; 0 is plain gradient descent.
    public let momentum: Float
    /// Whether to use Nesterov momentum in PyTorch's form.
    public let nesterov: Bool
    /// The L2 penalty added to the gradient.
    public let weightDecay: Float
    /// Whether biases and normalization parameters are exempt from weight decay.
    public let exemptBiasAndNormalization: Bool

    private let decayRuns: DecayRuns
    private let momentumBuffer: Tensor?
    private var stepCount = 0

    /// An optimizer for the parameters described by `segments`.
    public init(segments: [ParameterSegment], momentum: Float = 0, nesterov: Bool = false,
                weightDecay: Float = 0, exemptBiasAndNormalization: Bool = false) {
        precondition(momentum >= 0, "SGD: momentum \(momentum) is negative")
        precondition(!nesterov || momentum > 0, "SGD: Nesterov momentum needs a momentum above 0")
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.exemptBiasAndNormalization = exemptBiasAndNormalization
        decayRuns = DecayRuns(segments: segments, exemptingBiasAndNormalization: exemptBiasAndNormalization)
        momentumBuffer = momentum == 0 ? nil : Tensor(zeros: [decayRuns.count])
    }

    /// SGD with the course's default momentum of 0.9 (Nesterov's form when `nesterov`).
    public static func withMomentum(segments: [ParameterSegment], nesterov: Bool = false, weightDecay: Float = 0,
                                    exemptBiasAndNormalization: Bool = false) -> SGD {
        SGD(segments: segments, momentum: 0.9, nesterov: nesterov, weightDecay: weightDecay,
            exemptBiasAndNormalization: exemptBiasAndNormalization)
    }

    public func step(parameters: Tensor, gradients: Tensor, learningRate: Float) {
        decayRuns.check(parameters: parameters, gradients: gradients, optimizer: "SGD")
        let p = parameters.pointer, grad = gradients.pointer
        let lr = learningRate, m = momentum
        // Element by element, so the ranges split over the compute threads (memory-bound) change no bit.
        for run in decayRuns.runs {
            let wd = run.decays ? weightDecay : 0
            // PyTorch starts the buffer at the first gradient; scaling the all-zero buffer by 0 gives exactly that.
            let keep: Float = stepCount == 0 ? 0 : m
            let buf = momentumBuffer?.pointer, nesterov = nesterov
            ComputeThreads.forEachRange(run.range.count, grain: 1 << 16) { part in
                let range = run.range.lowerBound + part.lowerBound..<run.range.lowerBound + part.upperBound
                guard let buf else {
                    for i in range { p[i] -= lr * (grad[i] + wd * p[i]) }
                    return
                }
                if nesterov {
                    for i in range {
                        let g = grad[i] + wd * p[i]
                        buf[i] = keep * buf[i] + g
                        p[i] -= lr * (g + m * buf[i])
                    }
                } else {
                    for i in range {
                        let g = grad[i] + wd * p[i]
                        buf[i] = keep * buf[i] + g
                        p[i] -= lr * buf[i]
                    }
                }
            }
        }
        stepCount += 1
    }

    public var state: OptimizerState { OptimizerState(step: stepCount, tensors: buffers) }

    public func restore(_ state: OptimizerState) throws(OptimizerStateError) {
        try state.copy(into: buffers, optimizer: "SGD")
        stepCount = state.step
    }

    private var buffers: [String: Tensor] { momentumBuffer.map { ["momentum_buffer": $0] } ?? [:] }
}
