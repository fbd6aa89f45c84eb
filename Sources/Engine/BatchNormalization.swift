/// The kernels of batch normalization over the channels of (N, C, S) data, with an optional residual sum and ReLU
/// fused into the same passes.
///
/// The normalized input x̂ = (x - mean) * inverseStd is never stored: the backward pass recomputes it from the
/// input, which the layer that produced it keeps anyway. That saves one activation-sized buffer per batch norm and
/// a write and a read of it. With the ReLU fused, the output is max(γ x̂ + β, 0) and the backward pass masks the
/// output gradient where the output is not positive, which spares the separate activation layer's output and
/// gradient buffers; the mask too is recomputed from the input, by the forward pass's own arithmetic, so that the
/// backward pass reads only the input and the output gradient.
///
/// Training needs the whole batch's statistics of a channel before any of its outputs. `trainingForward` and
/// `trainingBackward` therefore go channel by channel: one channel's planes over the batch (a few hundred KB in a
/// ResNet) are read from memory for the statistics and again from the cache for the outputs, so that each tensor
/// crosses the memory bus once. Statistics summed over ranks (synchronised batch norm) cannot wait inside that
/// sweep; they take the separate passes `moments`, `gradientSums`, `normalize` and `inputGradient`.
public enum BatchNormalization {
    typealias Vector = Elementwise.Vector

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int) -> Vector { Elementwise.load(p, i) }

    /// Planes per thread below which splitting a pass over (n, c) planes costs more than it saves.
    @inline(__always)
    static func planeGrain(_ spatial: Int) -> Int { max(1, Elementwise.parallelGrain / max(spatial, 1)) }

    @inline(__always)
    static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>, _ i: Int) { Elementwise.store(v, p, i) }

    /// The fused ReLU's parameters: the backward pass keeps the output gradient where γ x̂ + β > 0, exactly where
    /// the output is positive.
    public struct ReLUMask {
        public let gammas: UnsafePointer<Float>, betas: UnsafePointer<Float>

        public init(gammas: UnsafePointer<Float>, betas: UnsafePointer<Float>) {
            self.gammas = gammas
            self.betas = betas
        }
    }

    /// A channel's statistics for normalizing: the mean, 1 / sqrt(biased variance + epsilon), and the unbiased
    /// variance for the running statistics, from Σ x, Σ x^2 and the count in Double.
    public static func statistics(sum: Double, squareSum: Double, count: Double, epsilon: Float)
        -> (mean: Float, inverseStd: Float, unbiasedVariance: Float) {
        let mean = sum / count
        let squares = max(squareSum - sum * mean, 0)
        let variance = Float(squares / count)
        return (Float(mean), 1 / (variance + epsilon).squareRoot(), count > 1 ? Float(squares / (count - 1)) : variance)
    }

    /// (Σ x, Σ x^2) over the batch's planes of channel c, in Double, in one pass. Σ x^2 is not summed as such: the
    /// float partials sum x, d and d^2 for d = x - k, k the mean of the channel's first plane, which is near the
    /// channel's mean, and Σ x^2 = M + (Σ x)^2 / N is formed in Double from the squared deviations from the mean,
    /// M = Σ d^2 - (Σ d)^2 / N. So a channel far from zero (a mean of 1000 with unit spread) keeps its variance's
    /// digits, which a float Σ x^2 would cancel away, and sums of these over ranks still give the global variance.
    @inline(__always)
    static func channelMoments(_ x: UnsafePointer<Float>, channel c: Int, batch: Int, channels: Int,
                               spatial: Int) -> (Double, Double) {
        guard batch > 0, spatial > 0 else { return (0, 0) }
        let first = x + c * spatial
        let k = Float(Reduction.blockedSum(count: spatial, { load(first, $0) }, { first[$0] }) / Double(spatial))
        let kv = Vector(repeating: k)
        let (sum, deviations, squares) = Reduction.planeSums(
            planes: batch, spatial: spatial, offset: { ($0 * channels + c) * spatial },
            prefetch: { Reduction.prefetchPlane(x + $0, count: spatial) }, { i in
                let v = load(x, i), d = v - kv
                return (v, d, d * d)
            }, { i in
                let d = x[i] - k
                return (x[i], d, d * d)
            })
        let count = Double(batch * spatial)
        return (sum, max(squares - deviations * deviations / count, 0) + sum * sum / count)
    }

    /// sums[c] = Σ x and squareSums[c] = Σ x^2 over n and s, in Double (overwrites both): the batch statistics in
    /// one pass over x (see `channelMoments`).
    public static func moments(_ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
                               sums: UnsafeMutablePointer<Double>, squareSums: UnsafeMutablePointer<Double>) {
        // x is (N,C,S), sums and squareSums are (C)
        ComputeThreads.forEachRange(channels) { range in for c in range {
            (sums[c], squareSums[c]) = channelMoments(x, channel: c, batch: batch, channels: channels, spatial: spatial)
        } }
    }

    /// The affine map of channel c, the same arithmetic in the forward pass and in the backward pass's ReLU mask.
    @inline(__always)
    static func affine(_ x: Vector, _ m: Vector, _ r: Vector, _ g: Vector, _ b: Vector) -> Vector { (x - m) * r * g + b }

    @inline(__always)
    static func affine(_ x: Float, _ m: Float, _ r: Float, _ g: Float, _ b: Float) -> Float { (x - m) * r * g + b }

    /// One plane of the forward pass: y = (x - m) r g + b (+ shortcut), then max(y, 0) when `relu`; written
    /// around the caches when `streaming`, but for the elements before the first whole line.
    @inline(__always)
    static func normalizePlane(_ source: UnsafePointer<Float>, _ target: UnsafeMutablePointer<Float>,
                               _ shortcut: UnsafePointer<Float>?, _ m: Float, _ r: Float, _ g: Float, _ b: Float,
                               relu: Bool, streaming: Bool, spatial: Int) {
        let (mv, rv, gv, bv) = (Vector(repeating: m), Vector(repeating: r), Vector(repeating: g), Vector(repeating: b))
        @inline(__always) func one(_ i: Int) {
            var v = affine(source[i], m, r, g, b)
            if let shortcut { v += shortcut[i] }
            target[i] = relu && v < 0 ? 0 : v
        }
        var i = 0
        while streaming && i < StreamingStores.alignedStart(target, from: 0, end: spatial) {
            one(i)
            i += 1
        }
        while i + 16 <= spatial {
            var v = affine(load(source, i), mv, rv, gv, bv)
            if let shortcut { v += load(shortcut, i) }
            if relu { v = v.replacing(with: 0, where: v .< 0) }
            StreamingStores.store(v, target + i, streaming: streaming)
            i += 16
        }
        while i < spatial {
            one(i)
            i += 1
        }
    }

    /// y = (x - means[c]) * inverseStds[c] * gammas[c] + betas[c], plus `residual` when given (a ResNet block's
    /// shortcut, summed in the same pass), then max(y, 0) when `relu` (a NaN stays NaN), for every channel c.
    public static func normalize(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                 means: UnsafePointer<Float>, inverseStds: UnsafePointer<Float>,
                                 gammas: UnsafePointer<Float>, betas: UnsafePointer<Float>,
                                 residual: UnsafePointer<Float>? = nil, relu: Bool,
                                 batch: Int, channels: Int, spatial: Int) {
        // x, residual and y are (N,C,S); means, inverseStds, gammas and betas are (C)
        let streaming = StreamingStores.pay(count: batch * channels * spatial)
        ComputeThreads.forEachRange(batch * channels, grain: planeGrain(spatial)) { planes in
            for plane in planes {
                let c = plane % channels, offset = plane * spatial
                normalizePlane(x + offset, y + offset, residual.map { $0 + offset }, means[c], inverseStds[c],
                               gammas[c], betas[c], relu: relu, streaming: streaming, spatial: spatial)
            }
            if streaming { StreamingStores.fence() }
        }
    }

    /// The training forward pass: each channel's batch statistics (written to `means`, `inverseStds` and
    /// `unbiasedVariances`), then its outputs as `normalize` computes them, channel by channel.
    public static func trainingForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                       gammas: UnsafePointer<Float>, betas: UnsafePointer<Float>,
                                       residual: UnsafePointer<Float>?, relu: Bool, epsilon: Float,
                                       batch: Int, channels: Int, spatial: Int,
                                       means: UnsafeMutablePointer<Float>, inverseStds: UnsafeMutablePointer<Float>,
                                       unbiasedVariances: UnsafeMutablePointer<Float>) {
        // x, residual and y are (N,C,S); the rest are (C)
        let streaming = StreamingStores.pay(count: batch * channels * spatial)
        ComputeThreads.forEachRange(channels) { range in
            for c in range {
                let (sum, squares) = channelMoments(x, channel: c, batch: batch, channels: channels, spatial: spatial)
                let (m, r, unbiased) = statistics(sum: sum, squareSum: squares, count: Double(batch * spatial),
                                                  epsilon: epsilon)
                (means[c], inverseStds[c], unbiasedVariances[c]) = (m, r, unbiased)
                for n in 0..<batch {
                    let offset = (n * channels + c) * spatial
                    if n + Reduction.planesAhead < batch {
                        let ahead = offset + Reduction.planesAhead * channels * spatial
                        if !streaming { Reduction.prefetchPlaneForWriting(y + ahead, count: spatial) }
                        if let residual { Reduction.prefetchPlane(residual + ahead, count: spatial) }
                    }
                    normalizePlane(x + offset, y + offset, residual.map { $0 + offset }, m, r, gammas[c], betas[c],
                                   relu: relu, streaming: streaming, spatial: spatial)
                }
            }
            if streaming { StreamingStores.fence() }
        }
    }

    /// (Σ g, Σ g x̂) over the batch's planes of channel c, where g is the output gradient masked by the fused ReLU.
    @inline(__always)
    static func channelGradientSums(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, relu: ReLUMask?,
                                    channel c: Int, mean m: Float, inverseStd r: Float, batch: Int, channels: Int,
                                    spatial: Int) -> (Double, Double) {
        let (g, b) = relu.map { ($0.gammas[c], $0.betas[c]) } ?? (0, 0)
        let (mv, rv, gv, bv) = (Vector(repeating: m), Vector(repeating: r), Vector(repeating: g), Vector(repeating: b))
        // Σ g (x - m), times r once at the end.
        let (sum, dot, _) = Reduction.planeSums(
            planes: batch, spatial: spatial, offset: { ($0 * channels + c) * spatial }, prefetch: {
                Reduction.prefetchPlane(x + $0, count: spatial)
                Reduction.prefetchPlane(dy + $0, count: spatial)
            }, { i in
                let v = load(x, i)
                var d = load(dy, i)
                if relu != nil { d = d.replacing(with: 0, where: .!(affine(v, mv, rv, gv, bv) .> 0)) }
                return (d, d * (v - mv), Vector())
            }, { i in
                let v = x[i]
                let d = relu == nil || affine(v, m, r, g, b) > 0 ? dy[i] : 0
                return (d, d * (v - m), 0)
            })
        return (sum, dot * Double(r))
    }

    /// gradientSums[c] = Σ g and gradientDotSums[c] = Σ g x̂ over n and s, in one pass, where g is the output
    /// gradient (masked by the fused ReLU when `relu` is given) and x̂ = (x - means[c]) * inverseStds[c]: the
    /// gradients of β and γ, and what the input gradient of training mode needs (overwrites both).
    public static func gradientSums(input x: UnsafePointer<Float>, relu: ReLUMask?,
                                    outputGradient dy: UnsafePointer<Float>, means: UnsafePointer<Float>,
                                    inverseStds: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
                                    gradientSums: UnsafeMutablePointer<Float>,
                                    gradientDotSums: UnsafeMutablePointer<Float>) {
        // x and dy are (N,C,S); means, inverseStds and the sums are (C)
        ComputeThreads.forEachRange(channels) { range in for c in range {
            let (sum, dot) = channelGradientSums(x, dy, relu: relu, channel: c, mean: means[c],
                                                 inverseStd: inverseStds[c], batch: batch, channels: channels,
                                                 spatial: spatial)
            gradientSums[c] = Float(sum)
            gradientDotSums[c] = Float(dot)
        } }
    }

    /// One plane of the input gradient: dx = a (g - g0 - x̂ d0), g masked as in `channelGradientSums`; written as
    /// `normalizePlane` writes.
    @inline(__always)
    static func inputGradientPlane(_ source: UnsafePointer<Float>, _ gradient: UnsafePointer<Float>,
                                   _ target: UnsafeMutablePointer<Float>, relu: (gamma: Float, beta: Float)?,
                                   _ m: Float, _ r: Float, _ a: Float, _ g0: Float, _ d0: Float, streaming: Bool,
                                   spatial: Int) {
        let (gamma, beta) = relu ?? (0, 0)
        let (mv, rv, av) = (Vector(repeating: m), Vector(repeating: r), Vector(repeating: a))
        let (gv, dv) = (Vector(repeating: g0), Vector(repeating: d0))
        let (gammas, betas) = (Vector(repeating: gamma), Vector(repeating: beta))
        @inline(__always) func one(_ i: Int) {
            let v = source[i]
            let g = relu == nil || affine(v, m, r, gamma, beta) > 0 ? gradient[i] : 0
            target[i] = a * (g - g0 - (v - m) * r * d0)
        }
        var i = 0
        while streaming && i < StreamingStores.alignedStart(target, from: 0, end: spatial) {
            one(i)
            i += 1
        }
        while i + 16 <= spatial {
            let v = load(source, i)
            var g = load(gradient, i)
            if relu != nil { g = g.replacing(with: 0, where: .!(affine(v, mv, rv, gammas, betas) .> 0)) }
            StreamingStores.store(av * (g - gv - (v - mv) * rv * dv), target + i, streaming: streaming)
            i += 16
        }
        while i < spatial {
            one(i)
            i += 1
        }
    }

    /// dx = scales[c] * (g - meanGradients[c] - x̂ * meanGradientDots[c]) with g and x̂ as in `gradientSums`:
    /// the input gradient of training mode, where the batch statistics depend on x (scales = γ / std). Evaluation
    /// mode passes zero means (dx = scales[c] * g).
    public static func inputGradient(input x: UnsafePointer<Float>, relu: ReLUMask?,
                                     outputGradient dy: UnsafePointer<Float>, means: UnsafePointer<Float>,
                                     inverseStds: UnsafePointer<Float>, scales: UnsafePointer<Float>,
                                     meanGradients: UnsafePointer<Float>, meanGradientDots: UnsafePointer<Float>,
                                     inputGradient dx: UnsafeMutablePointer<Float>,
                                     batch: Int, channels: Int, spatial: Int) {
        // x, dy and dx are (N,C,S); the rest are (C)
        let streaming = StreamingStores.pay(count: batch * channels * spatial)
        ComputeThreads.forEachRange(batch * channels, grain: planeGrain(spatial)) { planes in
            for plane in planes {
                let c = plane % channels, offset = plane * spatial
                inputGradientPlane(x + offset, dy + offset, dx + offset, relu: relu.map { ($0.gammas[c], $0.betas[c]) },
                                   means[c], inverseStds[c], scales[c], meanGradients[c], meanGradientDots[c],
                                   streaming: streaming, spatial: spatial)
            }
            if streaming { StreamingStores.fence() }
        }
    }

    /// The training backward pass, channel by channel: Σ g and Σ g x̂ (written to `gradientSums` and
    /// `gradientDotSums`, β's and γ's gradients), then dx as `inputGradient` computes it with the means over the
    /// batch, when `inputGradient` is given.
    public static func trainingBackward(input x: UnsafePointer<Float>, relu: ReLUMask?,
                                        outputGradient dy: UnsafePointer<Float>, means: UnsafePointer<Float>,
                                        inverseStds: UnsafePointer<Float>, gammas: UnsafePointer<Float>,
                                        batch: Int, channels: Int, spatial: Int,
                                        gradientSums: UnsafeMutablePointer<Float>,
                                        gradientDotSums: UnsafeMutablePointer<Float>,
                                        inputGradient dx: UnsafeMutablePointer<Float>?) {
        // x, dy and dx are (N,C,S); the rest are (C)
        let count = Float(batch * spatial), streaming = dx != nil && StreamingStores.pay(count: batch * channels * spatial)
        ComputeThreads.forEachRange(channels) { range in
            for c in range {
                let (m, r) = (means[c], inverseStds[c])
                let (sum, dot) = channelGradientSums(x, dy, relu: relu, channel: c, mean: m, inverseStd: r,
                                                     batch: batch, channels: channels, spatial: spatial)
                gradientSums[c] = Float(sum)
                gradientDotSums[c] = Float(dot)
                guard let dx else { continue }
                let (g0, d0) = (Float(sum) / count, Float(dot) / count)
                for n in 0..<batch {
                    let offset = (n * channels + c) * spatial
                    if !streaming && n + Reduction.planesAhead < batch {
                        Reduction.prefetchPlaneForWriting(dx + offset + Reduction.planesAhead * channels * spatial,
                                                          count: spatial)
                    }
                    inputGradientPlane(x + offset, dy + offset, dx + offset,
                                       relu: relu.map { ($0.gammas[c], $0.betas[c]) }, m, r, gammas[c] * r, g0, d0,
                                       streaming: streaming, spatial: spatial)
                }
            }
            if streaming { StreamingStores.fence() }
        }
    }
}
