/// The kernels of batch normalization over the channels of (N, C, S) data, with an optional ReLU fused into the
/// same passes.
///
/// The normalized input x̂ = (x - mean) * inverseStd is never stored: the backward pass recomputes it from the
/// input, which the layer that produced it keeps anyway. That saves one activation-sized buffer per batch norm and
/// a write and a read of it. With the ReLU fused, the output is max(γ x̂ + β, 0) and the backward pass masks the
/// output gradient where the output is not positive, which spares the separate activation layer's output and
/// gradient buffers.
public enum BatchNormalization {
    typealias Vector = Elementwise.Vector

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int) -> Vector { Elementwise.load(p, i) }

    /// Planes per thread below which splitting a pass over (n, c) planes costs more than it saves.
    @inline(__always)
    static func planeGrain(_ spatial: Int) -> Int { max(1, Elementwise.parallelGrain / max(spatial, 1)) }

    @inline(__always)
    static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>, _ i: Int) { Elementwise.store(v, p, i) }

    /// sums[c] = Σ over n and s of (x[n, c, s] - means[c])^2 (overwrites `sums`): the two-pass variance, accurate
    /// for activations far from zero, in float blocks added in Double as `Reduction` does.
    public static func centeredSquareSums(_ x: UnsafePointer<Float>, means: UnsafePointer<Float>, batch: Int,
                                          channels: Int, spatial: Int, into sums: UnsafeMutablePointer<Float>) {
        // x is (N,C,S), means and sums are (C)
        ComputeThreads.forEachRange(channels) { range in for c in range {
            let m = means[c], mv = Vector(repeating: m)
            var total = 0.0
            for n in 0..<batch {
                let plane = x + (n * channels + c) * spatial
                total += Reduction.blockedSum(count: spatial, { let d = load(plane, $0) - mv; return d * d },
                                              { let d = plane[$0] - m; return d * d })
            }
            sums[c] = Float(total)
        } }
    }

    /// y = (x - means[c]) * inverseStds[c] * gammas[c] + betas[c], then max(y, 0) when `relu` (a NaN stays NaN),
    /// for every channel c.
    public static func normalize(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                 means: UnsafePointer<Float>, inverseStds: UnsafePointer<Float>,
                                 gammas: UnsafePointer<Float>, betas: UnsafePointer<Float>, relu: Bool,
                                 batch: Int, channels: Int, spatial: Int) {
        // x and y are (N,C,S); means, inverseStds, gammas and betas are (C)
        ComputeThreads.forEachRange(batch * channels, grain: planeGrain(spatial)) { planes in
            for plane in planes {
                let c = plane % channels, offset = plane * spatial
                let (source, target) = (x + offset, y + offset)
                let (m, r, g, b) = (means[c], inverseStds[c], gammas[c], betas[c])
                let (mv, rv, gv, bv) = (Vector(repeating: m), Vector(repeating: r), Vector(repeating: g),
                                        Vector(repeating: b))
                var i = 0
                while i + 16 <= spatial {
                    var v = (load(source, i) - mv) * rv * gv + bv
                    if relu { v = v.replacing(with: 0, where: v .< 0) }
                    store(v, target, i)
                    i += 16
                }
                while i < spatial {
                    let v = (source[i] - m) * r * g + b
                    target[i] = relu && v < 0 ? 0 : v
                    i += 1
                }
            }
        }
    }

    /// gradientSums[c] = Σ g and gradientDotSums[c] = Σ g x̂ over n and s, where g is the output gradient (masked
    /// by output > 0 when `output` is given, the fused ReLU) and x̂ = (x - means[c]) * inverseStds[c]: the
    /// gradients of β and γ, and what the input gradient of training mode needs (overwrites both).
    public static func gradientSums(input x: UnsafePointer<Float>, output y: UnsafePointer<Float>?,
                                    outputGradient dy: UnsafePointer<Float>, means: UnsafePointer<Float>,
                                    inverseStds: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
                                    gradientSums: UnsafeMutablePointer<Float>,
                                    gradientDotSums: UnsafeMutablePointer<Float>) {
        // x, y and dy are (N,C,S); means, inverseStds and the sums are (C)
        ComputeThreads.forEachRange(channels) { range in for c in range {
            let (m, r) = (means[c], inverseStds[c])
            let (mv, rv) = (Vector(repeating: m), Vector(repeating: r))
            var sum = 0.0, dot = 0.0
            for n in 0..<batch {
                let offset = (n * channels + c) * spatial
                let (source, gradient) = (x + offset, dy + offset)
                if let y {
                    let output = y + offset
                    sum += Reduction.blockedSum(count: spatial, {
                        load(gradient, $0).replacing(with: 0, where: .!(load(output, $0) .> 0))
                    }, { output[$0] > 0 ? gradient[$0] : 0 })
                    dot += Reduction.blockedSum(count: spatial, {
                        load(gradient, $0).replacing(with: 0, where: .!(load(output, $0) .> 0))
                            * ((load(source, $0) - mv) * rv)
                    }, { output[$0] > 0 ? gradient[$0] * ((source[$0] - m) * r) : 0 })
                } else {
                    sum += Reduction.blockedSum(count: spatial, { load(gradient, $0) }, { gradient[$0] })
                    dot += Reduction.blockedSum(count: spatial, { load(gradient, $0) * ((load(source, $0) - mv) * rv) },
                                                { gradient[$0] * ((source[$0] - m) * r) })
                }
            }
            gradientSums[c] = Float(sum)
            gradientDotSums[c] = Float(dot)
        } }
    }

    /// dx = scales[c] * (g - meanGradients[c] - x̂ * meanGradientDots[c]) with g and x̂ as in `gradientSums`:
    /// the input gradient of training mode, where the batch statistics depend on x (scales = γ / std). Evaluation
    /// mode passes zero means (dx = scales[c] * g).
    public static func inputGradient(input x: UnsafePointer<Float>, output y: UnsafePointer<Float>?,
                                     outputGradient dy: UnsafePointer<Float>, means: UnsafePointer<Float>,
                                     inverseStds: UnsafePointer<Float>, scales: UnsafePointer<Float>,
                                     meanGradients: UnsafePointer<Float>, meanGradientDots: UnsafePointer<Float>,
                                     inputGradient dx: UnsafeMutablePointer<Float>,
                                     batch: Int, channels: Int, spatial: Int) {
        // x, y, dy and dx are (N,C,S); the rest are (C)
        ComputeThreads.forEachRange(batch * channels, grain: planeGrain(spatial)) { planes in
            for plane in planes {
                let c = plane % channels, offset = plane * spatial
                let (source, gradient, target) = (x + offset, dy + offset, dx + offset)
                let (m, r, a, g0, d0) = (means[c], inverseStds[c], scales[c], meanGradients[c], meanGradientDots[c])
                let (mv, rv, av) = (Vector(repeating: m), Vector(repeating: r), Vector(repeating: a))
                let (gv, dv) = (Vector(repeating: g0), Vector(repeating: d0))
                var i = 0
                while i + 16 <= spatial {
                    var g = load(gradient, i)
                    if let y { g = g.replacing(with: 0, where: .!(load(y + offset, i) .> 0)) }
                    store(av * (g - gv - (load(source, i) - mv) * rv * dv), target, i)
                    i += 16
                }
                while i < spatial {
                    let g = y.map { $0[offset + i] > 0 ? gradient[i] : 0 } ?? gradient[i]
                    target[i] = a * (g - g0 - (source[i] - m) * r * d0)
                    i += 1
                }
            }
        }
    }
}
