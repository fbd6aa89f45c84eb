import Engine
import Testing

/// The batch statistics of `BatchNormalization.moments` against Double sums: the variance they give must keep its
/// digits for activations far from zero, where a float Σ x^2 - (Σ x)^2 / n would keep none.
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
}
