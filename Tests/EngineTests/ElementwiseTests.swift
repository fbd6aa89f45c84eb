import Engine
import Foundation
import Testing

@Suite struct ElementwiseTests {
    /// Lengths around the 16-lane vectors, so that every tail size path runs.
    static let lengths = [0, 1, 15, 16, 17, 1000, 100_003]

    /// Runs a unary kernel on `x` and returns its output.
    static func unary(_ x: [Float], _ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> [Float] {
        var y = [Float](repeating: .nan, count: x.count)
        kernel(x, &y, x.count)
        return y
    }

    /// Runs a binary kernel on `a` and `b` and returns its output.
    static func binary(_ a: [Float], _ b: [Float],
                       _ kernel: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)
        -> [Float] {
        var out = [Float](repeating: .nan, count: a.count)
        kernel(a, b, &out, a.count)
        return out
    }

    @Test(arguments: lengths)
    func activations(count: Int) {
        let x = randomValues(count, low: -6, high: 6, stream: 1)
        let dy = randomValues(count, stream: 2)
        let xd = x.map(Double.init)

        expectClose(ElementwiseTests.unary(x) { Elementwise.relu($0, $1, count: $2) }, xd.map { max($0, 0) },
                    absolute: 0, "relu")
        expectClose(ElementwiseTests.binary(x, dy) {
            Elementwise.reluBackward(input: $0, outputGradient: $1, inputGradient: $2, count: $3)
        }, zip(x, dy).map { $0 > 0 ? Double($1) : 0 }, absolute: 0, "relu backward")

        let other = randomValues(count, stream: 3)
        let sumMasked = zip(zip(x, dy), other).map { $0.0 > 0 ? Double($0.1 + $1) : 0 }
        var out = [Float](repeating: .nan, count: count)
        Elementwise.reluBackwardSum(input: x, dy, other, &out, count: count)
        expectClose(out, sumMasked, absolute: 0, "relu backward of a sum")
        var inPlace = dy
        inPlace.withUnsafeMutableBufferPointer {
            Elementwise.reluBackwardSum(input: x, $0.baseAddress!, other, $0.baseAddress!, count: count)
        }
        expectClose(inPlace, sumMasked, absolute: 0, "relu backward of a sum, in place")

        let tanhY = ElementwiseTests.unary(x) { Elementwise.tanh($0, $1, count: $2) }
        expectClose(tanhY, xd.map { Foundation.tanh($0) }, absolute: 0, relative: 1e-6, "tanh")
        expectClose(ElementwiseTests.binary(tanhY, dy) {
            Elementwise.tanhBackward(output: $0, outputGradient: $1, inputGradient: $2, count: $3)
        }, zip(tanhY, dy).map { Double($1) * (1 - Double($0) * Double($0)) }, absolute: 1e-7, "tanh backward")

        let sigmoidY = ElementwiseTests.unary(x) { Elementwise.sigmoid($0, $1, count: $2) }
        expectClose(sigmoidY, xd.map { 1 / (1 + exp(-$0)) }, absolute: 0, relative: 1e-6, "sigmoid")
        expectClose(ElementwiseTests.binary(sigmoidY, dy) {
            Elementwise.sigmoidBackward(output: $0, outputGradient: $1, inputGradient: $2, count: $3)
        }, zip(sigmoidY, dy).map { Double($1) * Double($0) * (1 - Double($0)) }, absolute: 1e-7, "sigmoid backward")
    }

    @Test(arguments: lengths)
    func arithmetic(count: Int) {
        let a = randomValues(count, low: -3, high: 3, stream: 1), b = randomValues(count, low: -3, high: 3, stream: 2)
        let ad = a.map(Double.init), bd = b.map(Double.init)
        // Each result is one float operation on float inputs, so it must equal the correctly rounded Double result.
        func rounded(_ values: [Double]) -> [Double] { values.map { Double(Float($0)) } }

        expectClose(ElementwiseTests.binary(a, b) { Elementwise.add($0, $1, $2, count: $3) },
                    rounded(zip(ad, bd).map(+)), absolute: 0, "add")
        expectClose(ElementwiseTests.binary(a, b) { Elementwise.multiply($0, $1, $2, count: $3) },
                    rounded(zip(ad, bd).map(*)), absolute: 0, "multiply")

        var accumulator = a
        Elementwise.addInPlace(&accumulator, b, count: count)
        expectClose(accumulator, rounded(zip(ad, bd).map(+)), absolute: 0, "addInPlace")

        var scaled = a
        Elementwise.scale(&scaled, by: 0.375, count: count)
        expectClose(scaled, rounded(ad.map { $0 * 0.375 }), absolute: 0, "scale")

        var y = b
        Elementwise.axpy(alpha: -0.7, x: a, y: &y, count: count)
        expectClose(y, zip(ad, bd).map { $1 + Double(Float(-0.7)) * $0 }, absolute: 1e-6, "axpy")
    }

    @Test(arguments: [(3, 5, 7), (2, 17, 1), (2, 3, 49), (1, 2, 100_003), (0, 4, 4)])
    func addChannelBias(batch: Int, channels: Int, spatial: Int) {
        let count = batch * channels * spatial
        var data = randomValues(count, stream: 1)
        let bias = randomValues(channels, stream: 2)
        let expected = (0..<count).map { Double(Float(Double(data[$0]) + Double(bias[($0 / spatial) % channels]))) }
        Elementwise.addChannelBias(&data, bias: bias, batch: batch, channels: channels, spatial: spatial)
        expectClose(data, expected, absolute: 0, "data + bias (\(batch),\(channels),\(spatial))")
    }

    /// Inputs from 1e-30 to 100 in magnitude, both signs, plus the points where the approximations switch method or
    /// saturate.
    static let wideRange: [Float] = {
        var values: [Float] = [0, -0.0, 0.625, -0.625, 30, -30, 88, -88, 88.7, -88.7, 100, -100, 103, -103, 1e-6, -1e-6]
        var magnitude: Float = 1e-30
        while magnitude < 100 {
            values += [magnitude, -magnitude]
            magnitude *= 1.0137
        }
        return values
    }()

    @Test func tanhAndSigmoidAreAccurateOverTheWholeRange() {
        let x = ElementwiseTests.wideRange
        expectClose(ElementwiseTests.unary(x) { Elementwise.tanh($0, $1, count: $2) },
                    x.map { Foundation.tanh(Double($0)) }, absolute: 0, relative: 1e-6, "tanh")
        // Below the smallest normal float the result is subnormal and can only be as exact as its spacing.
        expectClose(ElementwiseTests.unary(x) { Elementwise.sigmoid($0, $1, count: $2) },
                    x.map { 1 / (1 + exp(-Double($0))) }, absolute: 2 * Double(Float.leastNonzeroMagnitude),
                    relative: 1e-6, "sigmoid")
    }

    @Test func tanhAndSigmoidOfInfinitiesAndNaN() {
        let x: [Float] = [.infinity, -.infinity, .nan, 1e30, -1e30]
        let t = ElementwiseTests.unary(x) { Elementwise.tanh($0, $1, count: $2) }
        let s = ElementwiseTests.unary(x) { Elementwise.sigmoid($0, $1, count: $2) }
        #expect(t[0] == 1 && t[1] == -1 && t[2].isNaN && t[3] == 1 && t[4] == -1, "tanh \(t)")
        #expect(s[0] == 1 && s[1] == 0 && s[2].isNaN && s[3] == 1 && s[4] == 0, "sigmoid \(s)")
    }

    @Test func sigmoidIsHalfOfOnePlusTanhOfHalf() {
        // sigma(z) = (1 + tanh(z/2)) / 2.
        let z = randomValues(1000, low: -20, high: 20, stream: 3)
        let halves = z.map { $0 / 2 }
        let sigma = ElementwiseTests.unary(z) { Elementwise.sigmoid($0, $1, count: $2) }
        let tanhOfHalf = ElementwiseTests.unary(halves) { Elementwise.tanh($0, $1, count: $2) }
        expectClose(sigma, tanhOfHalf.map { (1 + Double($0)) / 2 }, absolute: 1e-7, "sigma(z) vs (1 + tanh(z/2))/2")
    }
}
