import Engine

/// Layer-wise adaptive rate scaling (You, Gitman, Ginsburg 2017, Algorithm 1) with momentum.
///
/// For each parameter segment w with gradient g, weight decay `wd`, trust coefficient `eta`, momentum `m`, and
/// learning rate `lr`:
///
///     trust = eta * ||w|| / (||g|| + wd * ||w||)    (1 when ||w|| = 0 or ||g|| = 0)
///     v = m * v + lr * trust * (g + wd * w)
///     w = w - v
///
/// The norms are Euclidean norms of the whole segment, taken before the update. The learning rate sits inside the
/// momentum buffer, as in the paper. With `exemptBiasAndNormalization`, biases and normalization parameters take
/// neither weight decay nor adaptation (trust 1, `wd` 0: plain momentum SGD), the common practice since small
/// vectors with near-zero norms make the trust ratio erratic.
public final class LARS: Optimizer {
    /// The trust coefficient eta.
    public let trustCoefficient: Float
    /// The momentum factor.
    public let momentum: Float
    /// The L2 penalty added to the gradient and to the trust ratio's denominator.
    public let weightDecay: Float
    /// Whether biases and normalization parameters are exempt from weight decay and adaptation.
    public let exemptBiasAndNormalization: Bool

    /// One segment's elements and whether it is decayed and adapted.
    private struct Group {
        let range: Range<Int>
        let adapts: Bool
    }

    private let groups: [Group]
    private let count: Int
    private let velocity: Tensor
    private var stepCount = 0

    /// An optimizer for the parameters described by `segments`.
    public init(segments: [ParameterSegment], trustCoefficient: Float = 0.001, momentum: Float = 0.9,
                weightDecay: Float = 0, exemptBiasAndNormalization: Bool = false) {
        precondition(trustCoefficient > 0, "LARS: trust coefficient \(trustCoefficient) is not positive")
        precondition(momentum >= 0, "LARS: momentum \(momentum) is negative")
        self.trustCoefficient = trustCoefficient
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.exemptBiasAndNormalization = exemptBiasAndNormalization
        groups = segments.sorted { $0.offset < $1.offset }.map {
            Group(range: $0.range, adapts: !exemptBiasAndNormalization || $0.role.decaysWhenExempting)
        }
        count = DecayRuns(segments: segments, exemptingBiasAndNormalization: exemptBiasAndNormalization).count
        velocity = Tensor(zeros: [count])
    }

    public func step(parameters: Tensor, gradients: Tensor, learningRate: Float) {
        precondition(parameters.count == count && gradients.count == count,
                     "LARS: \(parameters.count) parameters and \(gradients.count) gradients, segments hold \(count)")
        let p = parameters.pointer, grad = gradients.pointer, v = velocity.pointer, m = momentum
        for group in groups {
            var trust: Float = 1
            let wd = group.adapts ? weightDecay : 0
            if group.adapts {
                let weightNorm = LARS.norm(p + group.range.lowerBound, count: group.range.count)
                let gradientNorm = LARS.norm(grad + group.range.lowerBound, count: group.range.count)
                if weightNorm > 0 && gradientNorm > 0 {
                    trust = trustCoefficient * weightNorm / (gradientNorm + weightDecay * weightNorm)
                }
            }
            let scaledRate = learningRate * trust
            for i in group.range {
                v[i] = m * v[i] + scaledRate * (grad[i] + wd * p[i])
                p[i] -= v[i]
            }
        }
        stepCount += 1
    }

    public var state: OptimizerState { OptimizerState(step: stepCount, tensors: ["momentum_buffer": velocity]) }

    public func restore(_ state: OptimizerState) throws(OptimizerStateError) {
        try state.copy(into: ["momentum_buffer": velocity], optimizer: "LARS")
        stepCount = state.step
    }

    /// The Euclidean norm of `count` elements.
    ///
    /// Sixteen independent partial sums let the loop vectorize (a single running sum is a serial dependency) and
    /// keep the rounding error small for segments of millions of elements; they are combined in double precision.
    private static func norm(_ x: UnsafeMutablePointer<Float>, count: Int) -> Float {
        var partial = SIMD16<Float>()
        let vectorEnd = count - count % 16
        var i = 0
        while i < vectorEnd {
            let chunk = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            partial += chunk * chunk
            i += 16
        }
        var total = 0.0
        for lane in 0..<16 { total += Double(partial[lane]) }
        for j in vectorEnd..<count { total += Double(x[j]) * Double(x[j]) }
        return Float(total.squareRoot())
    }
}
