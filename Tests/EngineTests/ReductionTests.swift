import Engine
import Testing

@Suite struct ReductionTests {
    @Test(arguments: ElementwiseTests.lengths)
    func scalarReductions(count: Int) {
        let a = randomValues(count, low: -2, high: 2, stream: 1), b = randomValues(count, low: -2, high: 2, stream: 2)
        let sum = a.reduce(0.0) { $0 + Double($1) }
        let squares = a.reduce(0.0) { $0 + Double($1) * Double($1) }
        let dot = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let maxAbs = a.reduce(0.0) { max($0, abs(Double($1))) }
        // Tolerances relative to the sum of magnitudes, the scale of the rounding errors.
        let scale = a.reduce(1.0) { $0 + abs(Double($1)) } * 4
        expectClose([Reduction.sum(a, count: count)], [sum], absolute: 1e-6 * scale, "sum of \(count)")
        expectClose([Reduction.sumOfSquares(a, count: count)], [squares], absolute: 1e-6 * scale, "sum of squares")
        expectClose([Reduction.dot(a, b, count: count)], [dot], absolute: 1e-6 * scale, "dot")
        expectClose([Reduction.maxAbs(a, count: count)], [maxAbs], absolute: 0, "max |x|")
    }

    @Test func maxAbsFindsTheLargestMagnitudeAnywhere() {
        for position in [0, 15, 16, 31, 32, 47, 63, 999] {
            var x = [Float](repeating: 1, count: 1000)
            x[position] = -5
            #expect(Reduction.maxAbs(x, count: 1000) == 5, "maximum at \(position)")
        }
    }

    @Test func longSumsStayAccurate() {
        // 4M values near 1: a float running sum would be off by percents; blocked Double partials stay near 1e-7.
        let count = 4_000_000
        let x = randomValues(count, low: 0.9, high: 1.1, stream: 4)
        let exact = x.reduce(0.0) { $0 + Double($1) }
        let squares = x.reduce(0.0) { $0 + Double($1) * Double($1) }
        expectClose([Reduction.sum(x, count: count)], [exact], absolute: 0, relative: 1e-6, "sum of 4M")
        expectClose([Reduction.sumOfSquares(x, count: count)], [squares], absolute: 0, relative: 1e-6,
                    "sum of squares of 4M")
        expectClose([Reduction.dot(x, x, count: count)], [squares], absolute: 0, relative: 1e-6, "dot of 4M")
    }

    @Test(arguments: [(3, 5, 7), (4, 17, 1), (2, 3, 49), (2, 2, 100_003), (0, 4, 4), (64, 3, 1024)])
    func channelSums(batch: Int, channels: Int, spatial: Int) {
        let count = batch * channels * spatial
        let a = randomValues(count, stream: 1), b = randomValues(count, stream: 2)
        var sums = [Double](repeating: 0, count: channels), dots = [Double](repeating: 0, count: channels)
        var magnitudes = [Double](repeating: 1, count: channels)
        for i in 0..<count {
            let c = (i / spatial) % channels
            sums[c] += Double(a[i])
            dots[c] += Double(a[i]) * Double(b[i])
            magnitudes[c] += abs(Double(a[i]))
        }
        var actual = [Float](repeating: .nan, count: channels)
        Reduction.channelSums(a, batch: batch, channels: channels, spatial: spatial, into: &actual)
        expectClose(actual, sums, absolute: 1e-6 * (magnitudes.max() ?? 1), "channel sums (\(batch),\(channels),\(spatial))")
        actual = [Float](repeating: .nan, count: channels)
        Reduction.channelDotSums(a, b, batch: batch, channels: channels, spatial: spatial, into: &actual)
        expectClose(actual, dots, absolute: 1e-6 * (magnitudes.max() ?? 1),
                    "channel dot sums (\(batch),\(channels),\(spatial))")
    }
}
