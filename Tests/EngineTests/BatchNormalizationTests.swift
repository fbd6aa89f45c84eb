import Engine
import Testing

/// The batch statistics of `BatchNormalization.moments` against Double sums: the variance they give must keep its
/// digits for activations far from zero, where a float Σ x^2 - (Σ x)^2 / n would keep none. The channel-by-channel
/// training passes against the separate passes, bit for bit, on one thread and three.
@Suite struct BatchNormalizationTests {
    @Test(arguments: [(3, 5, 7, Float(0)), (4, 3, 3136, 0), (2, 2, 100_003, 0), (16, 3, 49, 1000), (8, 2, 1024, -300)])
    func momentsGiveTheVariance(batch: Int, channels: Int, spatial: Int, offset: Float) {
        let count = batch * channels * spatial
        // Spread 0.01 around the offset: at 1000 the variance is 1e-10 of the mean's square.
        let x = randomValues(count, low: -0.01, high: 0.01, stream: 3).enumerated().map { i, v in
            v + offset + 0.001 * Float((i / spatial) % channels)
        }
        var means = [Double](repeating: 0, count: channels), variances = means
        let perChannel = Double(batch * spatial)
        for i in 0..<count { means[(i / spatial) % channels] += Double(x[i]) / perChannel }
        for i in 0..<count {
            let d = Double(x[i]) - means[(i / spatial) % channels]
            variances[(i / spatial) % channels] += d * d / perChannel
        }
        var sums = [Double](repeating: .nan, count: channels), squareSums = sums
        BatchNormalization.moments(x, batch: batch, channels: channels, spatial: spatial, sums: &sums,
                                   squareSums: &squareSums)
        let actualMeans = sums.map { Float($0 / perChannel) }
        let actualVariances = zip(sums, squareSums).map { sum, squares in Float((squares - sum * sum / perChannel) / perChannel) }
        expectClose(actualMeans, means, absolute: 0, relative: 1e-6, "means (\(batch),\(channels),\(spatial)) at \(offset)")
        expectClose(actualVariances, variances, absolute: 0, relative: 1e-3,
                    "variances (\(batch),\(channels),\(spatial)) at \(offset)")
    }

    /// (N, C, S) = (5, 7, 37): vectors and tails; the ReLU's mask recomputed from x, or after a residual taken from
    /// the output beforehand.
    @Test(arguments: [false, true])
    func trainingPassesMatchTheSeparatePasses(residual: Bool) {
        let (n, c, s) = (5, 7, 37), count = n * c * s
        let x = randomValues(count, stream: 5), shortcut = randomValues(count, stream: 6)
        let dy = randomValues(count, stream: 7), gammas = randomValues(c, low: 0.5, high: 1.5, stream: 8)
        let betas = randomValues(c, stream: 9)
        func run(_ body: () -> [Float]) -> [Float] {
            let one = ComputeThreads.with(threads: 1, body), three = ComputeThreads.with(threads: 3, body)
            #expect(one == three, "1 and 3 threads")
            return one
        }
        let relu = BatchNormalization.ReLUMask(gammas: gammas, betas: betas)
        let fused = run {
            var y = [Float](repeating: 0, count: count), masked = y, dx = y
            var means = [Float](repeating: 0, count: c), inverseStds = means, unbiased = means, sums = means, dots = means
            BatchNormalization.trainingForward(x, &y, gammas: gammas, betas: betas, residual: residual ? shortcut : nil,
                                               relu: true, epsilon: 1e-5, batch: n, channels: c, spatial: s,
                                               means: &means, inverseStds: &inverseStds, unbiasedVariances: &unbiased)
            if residual { Elementwise.reluBackward(input: y, outputGradient: dy, inputGradient: &masked, count: count) }
            BatchNormalization.trainingBackward(input: x, relu: residual ? nil : relu,
                                                outputGradient: residual ? masked : dy, means: means,
                                                inverseStds: inverseStds, gammas: gammas, batch: n, channels: c,
                                                spatial: s, gradientSums: &sums, gradientDotSums: &dots,
                                                inputGradient: &dx)
            return y + (residual ? masked : []) + dx + means + inverseStds + unbiased + sums + dots
        }
        let separate = run {
            var y = [Float](repeating: 0, count: count), masked = y, dx = y
            var moments = [Double](repeating: 0, count: 2 * c)
            var means = [Float](repeating: 0, count: c), inverseStds = means, unbiased = means, sums = means, dots = means
            moments.withUnsafeMutableBufferPointer {
                BatchNormalization.moments(x, batch: n, channels: c, spatial: s, sums: $0.baseAddress!,
                                           squareSums: $0.baseAddress! + c)
            }
            for i in 0..<c {
                (means[i], inverseStds[i], unbiased[i]) = BatchNormalization.statistics(
                    sum: moments[i], squareSum: moments[c + i], count: Double(n * s), epsilon: 1e-5)
            }
            BatchNormalization.normalize(x, &y, means: means, inverseStds: inverseStds, gammas: gammas, betas: betas,
                                         residual: residual ? shortcut : nil, relu: true, batch: n, channels: c,
                                         spatial: s)
            if residual { Elementwise.reluBackward(input: y, outputGradient: dy, inputGradient: &masked, count: count) }
            let gradient = residual ? masked : dy
            BatchNormalization.gradientSums(input: x, relu: residual ? nil : relu, outputGradient: gradient,
                                            means: means, inverseStds: inverseStds, batch: n, channels: c, spatial: s,
                                            gradientSums: &sums, gradientDotSums: &dots)
            let scales = (0..<c).map { gammas[$0] * inverseStds[$0] }
            let meanGradients = sums.map { $0 / Float(n * s) }, meanDots = dots.map { $0 / Float(n * s) }
            BatchNormalization.inputGradient(input: x, relu: residual ? nil : relu, outputGradient: gradient,
                                             means: means, inverseStds: inverseStds, scales: scales,
                                             meanGradients: meanGradients, meanGradientDots: meanDots,
                                             inputGradient: &dx, batch: n, channels: c, spatial: s)
            return y + (residual ? masked : []) + dx + means + inverseStds + unbiased + sums + dots
        }
        expectEqual(fused, separate, "channel-by-channel against separate passes, residual \(residual)")
    }

    /// Outputs larger than the caches are written by streaming stores (`StreamingStores`), from each plane's first
    /// whole line on: 41 MB, more than four times any L2, in planes of an odd size, so that most start inside a
    /// line. The results against the kernels' arithmetic written out element by element.
    @Test func largeOutputsAreStreamedExactly() {
        let (n, c, s) = (2, 3, 1_700_003), count = n * c * s
        let x = randomValues(count, stream: 11), dy = randomValues(count, stream: 12)
        let gammas: [Float] = [0.5, 1, 1.5], betas: [Float] = [0.1, -0.2, 0.3]
        var y = [Float](repeating: .nan, count: count), dx = y
        var means = [Float](repeating: 0, count: c), inverseStds = means, unbiased = means, sums = means, dots = means
        BatchNormalization.trainingForward(x, &y, gammas: gammas, betas: betas, residual: nil, relu: true,
                                           epsilon: 1e-5, batch: n, channels: c, spatial: s, means: &means,
                                           inverseStds: &inverseStds, unbiasedVariances: &unbiased)
        BatchNormalization.trainingBackward(input: x, relu: BatchNormalization.ReLUMask(gammas: gammas, betas: betas),
                                            outputGradient: dy, means: means, inverseStds: inverseStds,
                                            gammas: gammas, batch: n, channels: c, spatial: s, gradientSums: &sums,
                                            gradientDotSums: &dots, inputGradient: &dx)
        var sum = [Float](repeating: .nan, count: count)
        Elementwise.add(x, dy, &sum, count: count)
        var wrong = (y: 0, dx: 0, sum: 0)
        for i in 0..<count {
            let k = (i / s) % c, (m, r, g, b) = (means[k], inverseStds[k], gammas[k], betas[k])
            let v = (x[i] - m) * r * g + b
            if y[i] != (v < 0 ? 0 : v) { wrong.y += 1 }
            let (g0, d0) = (sums[k] / Float(n * s), dots[k] / Float(n * s))
            let masked = v > 0 ? dy[i] : 0
            if dx[i] != g * r * (masked - g0 - (x[i] - m) * r * d0) { wrong.dx += 1 }
            if sum[i] != x[i] + dy[i] { wrong.sum += 1 }
        }
        #expect(wrong.y == 0 && wrong.dx == 0 && wrong.sum == 0, "elements differing: \(wrong) of \(count)")
    }
}
