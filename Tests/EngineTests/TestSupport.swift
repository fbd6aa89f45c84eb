import Engine
import Foundation
import Testing

/// Uniform values in [low, high) drawn from Philox, so test data is the same on every machine.
func randomValues(_ count: Int, low: Float = -1, high: Float = 1, seed: UInt64 = 1, stream: UInt64 = 0) -> [Float] {
    var values = [Float](repeating: 0, count: count)
    Philox(seed: seed).fillUniform(&values, count: count, stream: stream)
    return values.map { low + (high - low) * $0 }
}

/// Float32 values sin(i * scale + phase), the pattern Tests/References/convolution_reference.py rebuilds in PyTorch.
func pattern(_ count: Int, scale: Double, phase: Double) -> [Float] {
    (0..<count).map { Float(sin(Double($0) * scale + phase)) }
}

/// A tensor of `shape` holding `values`.
func tensor(_ shape: [Int], _ values: [Float]) -> Tensor {
    Tensor(shape: shape, values: values)
}

/// Expects |actual[i] - expected[i]| <= absolute + relative * |expected[i]| everywhere; on failure the message lists
/// the first differing elements and the maximum difference.
func expectClose(_ actual: [Float], _ expected: [Double], absolute: Double, relative: Double = 0,
                 _ what: String = "values", sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.count == expected.count else {
        Issue.record("\(what): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    var maxDifference = 0.0
    var failures: [String] = []
    var failureCount = 0
    for i in actual.indices {
        let a = Double(actual[i]), e = expected[i]
        let difference = a == e ? 0 : abs(a - e)
        maxDifference = max(maxDifference, difference.isNaN ? .infinity : difference)
        if !(difference <= absolute + relative * abs(e)) {
            failureCount += 1
            if failures.count < 8 { failures.append("[\(i)] \(actual[i]) vs \(e)") }
        }
    }
    if failureCount > 0 {
        let report = "\(what): \(failureCount) of \(actual.count) differ (tolerance \(absolute) + \(relative)|x|), "
            + "max difference \(maxDifference); first: \(failures.joined(separator: ", "))"
        Issue.record(Comment(rawValue: report), sourceLocation: sourceLocation)
    }
}

/// `expectClose` for exact comparisons against Float values.
func expectEqual(_ actual: [Float], _ expected: [Float], _ what: String = "values",
                 sourceLocation: SourceLocation = #_sourceLocation) {
    expectClose(actual, expected.map(Double.init), absolute: 0, what, sourceLocation: sourceLocation)
}

/// Convolution by its definition, in Double: the reference the im2col kernels are checked against.
enum NaiveConvolution {
    /// y[n,o,i,j] = b[o] + Σ_{c,ki,kj} x[n,c,i*s-p+ki,j*s-p+kj] w[o,c,ki,kj], out-of-range x being zero.
    static func forward(input x: [Float], inputShape: [Int], weight w: [Float], weightShape: [Int], bias: [Float]?,
                        geometry g: WindowGeometry) -> [Double] {
        let (n, c, h, wd) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let o = weightShape[0]
        let (oh, ow) = g.outputSize(height: h, width: wd)
        var y = [Double](repeating: 0, count: n * o * oh * ow)
        for b in 0..<n { for oc in 0..<o { for i in 0..<oh { for j in 0..<ow {
            var total = Double(bias?[oc] ?? 0)
            for ic in 0..<c { for ki in 0..<g.kernelHeight { for kj in 0..<g.kernelWidth {
                let r = i * g.strideHeight - g.paddingHeight + ki, q = j * g.strideWidth - g.paddingWidth + kj
                guard r >= 0 && r < h && q >= 0 && q < wd else { continue }
                total += Double(x[((b * c + ic) * h + r) * wd + q])
                    * Double(w[((oc * c + ic) * g.kernelHeight + ki) * g.kernelWidth + kj])
            } } }
            y[((b * o + oc) * oh + i) * ow + j] = total
        } } } }
        return y
    }

    /// The gradients of Σ dy * forward(x, w, b) with respect to x, w and b.
    static func backward(input x: [Float], inputShape: [Int], weight w: [Float], weightShape: [Int],
                         outputGradient dy: [Float], geometry g: WindowGeometry)
        -> (input: [Double], weight: [Double], bias: [Double]) {
        let (n, c, h, wd) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let o = weightShape[0]
        let (oh, ow) = g.outputSize(height: h, width: wd)
        var dx = [Double](repeating: 0, count: x.count)
        var dw = [Double](repeating: 0, count: w.count)
        var db = [Double](repeating: 0, count: o)
        for b in 0..<n { for oc in 0..<o { for i in 0..<oh { for j in 0..<ow {
            let g0 = Double(dy[((b * o + oc) * oh + i) * ow + j])
            db[oc] += g0
            for ic in 0..<c { for ki in 0..<g.kernelHeight { for kj in 0..<g.kernelWidth {
                let r = i * g.strideHeight - g.paddingHeight + ki, q = j * g.strideWidth - g.paddingWidth + kj
                guard r >= 0 && r < h && q >= 0 && q < wd else { continue }
                let xi = ((b * c + ic) * h + r) * wd + q
                let wi = ((oc * c + ic) * g.kernelHeight + ki) * g.kernelWidth + kj
                dx[xi] += g0 * Double(w[wi])
                dw[wi] += g0 * Double(x[xi])
            } } }
        } } } }
        return (dx, dw, db)
    }
}

/// The window shapes the convolution tests sweep: every kernel 1, 3, 5, 7 with stride 1, 2, 3 and padding 0, 1, 2,
/// plus rectangular windows.
let sweptGeometries: [WindowGeometry] = {
    var geometries: [WindowGeometry] = []
    for kernel in [1, 3, 5, 7] {
        for stride in [1, 2, 3] {
            for padding in [0, 1, 2] { geometries.append(WindowGeometry(kernel: kernel, stride: stride, padding: padding)) }
        }
    }
    geometries.append(WindowGeometry(kernelHeight: 3, kernelWidth: 1, strideHeight: 1, strideWidth: 2,
                                     paddingHeight: 1, paddingWidth: 0))
    geometries.append(WindowGeometry(kernelHeight: 1, kernelWidth: 5, strideHeight: 2, strideWidth: 1,
                                     paddingHeight: 0, paddingWidth: 2))
    return geometries
}()
