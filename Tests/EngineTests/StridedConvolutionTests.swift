import Engine
import Testing

/// The stride-2 3x3 kernels (`StridedForward`, `StridedInputGradient` by both of its tiles, `StridedWeightGradient`,
/// or the direct tiles without AVX-512) against the definition, next to the GEMM's error on the same problem: odd and
/// even sizes (input-gradient phases of unequal sizes, of one position and of none), padding 0, 1 and 2, rows on
/// both sides of 8 and 16 lanes, channel counts that leave part of a tile or of a pair of channel vectors, batches
/// of several images, images in several groups and output rows in several bands of the weight gradient; the same
/// bits on 1 and 2 threads.
@Suite struct StridedConvolutionTests {
    struct Case: CustomStringConvertible, Sendable {
        let batch: Int, channels: Int, height: Int, width: Int, outputs: Int, padding: Int
        var description: String { "\(batch)x\(channels)x\(height)x\(width) -> \(outputs), padding \(padding)" }
        var geometry: WindowGeometry { WindowGeometry(kernel: 3, stride: 2, padding: padding) }
        var inputShape: [Int] { [batch, channels, height, width] }
        var weightShape: [Int] { [outputs, channels, 3, 3] }
        var outputShape: [Int] {
            let (oh, ow) = geometry.outputSize(height: height, width: width)
            return [batch, outputs, oh, ow]
        }
    }

    static let cases: [Case] = [
        Case(batch: 2, channels: 3, height: 9, width: 11, outputs: 4, padding: 1),
        Case(batch: 3, channels: 5, height: 16, width: 33, outputs: 17, padding: 1),
        Case(batch: 2, channels: 16, height: 32, width: 32, outputs: 32, padding: 1),
        Case(batch: 2, channels: 32, height: 16, width: 16, outputs: 64, padding: 1),
        Case(batch: 1, channels: 7, height: 15, width: 15, outputs: 40, padding: 0),
        Case(batch: 2, channels: 6, height: 14, width: 13, outputs: 9, padding: 2),
        Case(batch: 4, channels: 70, height: 8, width: 8, outputs: 48, padding: 1),
        Case(batch: 2, channels: 4, height: 2, width: 3, outputs: 5, padding: 1),
        Case(batch: 2, channels: 4, height: 1, width: 1, outputs: 3, padding: 1),
        Case(batch: 5, channels: 64, height: 28, width: 28, outputs: 64, padding: 1),
    ]

    /// The largest difference from the definition, over the largest value of the definition.
    static func relativeError(_ actual: [Float], _ expected: [Double]) -> Double {
        let scale = expected.map(abs).max() ?? 1
        return zip(actual, expected).map { abs(Double($0) - $1) }.max().map { $0 / scale } ?? 0
    }

    /// Float sums of at most 5 * 14 * 14 products of values in [-1, 1] per weight, 64 * 9 per input and output
    /// value: measured up to 8.4e-7 here, the GEMM's up to 5.8e-7.
    static let tolerance = 1e-5

    struct Problem {
        let x: [Float], w: [Float], dy: [Float]

        init(_ c: Case) {
            x = randomValues(Tensor.elementCount(c.inputShape), stream: 81)
            w = randomValues(Tensor.elementCount(c.weightShape), stream: 82)
            dy = randomValues(Tensor.elementCount(c.outputShape), stream: 83)
        }
    }

    /// (output, input gradient, weight gradient) by `method`.
    static func run(_ c: Case, _ p: Problem, _ method: Convolution.Method) -> ([Float], [Float], [Float]) {
        let workspace = Workspace()
        let y = Tensor(zeros: c.outputShape), dx = Tensor(zeros: c.inputShape), dw = Tensor(zeros: c.weightShape)
        y.fill(.nan)
        dx.fill(.nan)  // overwritten, not accumulated
        Convolution.forward(input: tensor(c.inputShape, p.x), weight: tensor(c.weightShape, p.w), bias: nil,
                            geometry: c.geometry, output: y, workspace: workspace, method: method)
        Convolution.backward(input: tensor(c.inputShape, p.x), outputGradient: tensor(c.outputShape, p.dy),
                             weight: tensor(c.weightShape, p.w), geometry: c.geometry, weightGradient: dw,
                             biasGradient: nil, inputGradient: dx, workspace: workspace, method: method)
        return (y.scalars, dx.scalars, dw.scalars)
    }

    /// The output and the gradients by the definition.
    static func definition(_ c: Case, _ p: Problem)
        -> (output: [Double], gradients: (input: [Double], weight: [Double], bias: [Double])) {
        let output = NaiveConvolution.forward(input: p.x, inputShape: c.inputShape, weight: p.w,
                                              weightShape: c.weightShape, bias: nil, geometry: c.geometry)
        let expected = NaiveConvolution.backward(input: p.x, inputShape: c.inputShape, weight: p.w,
                                                 weightShape: c.weightShape, outputGradient: p.dy,
                                                 geometry: c.geometry)
        return (output, expected)
    }

    @Test(arguments: cases)
    func passesMatchTheDefinition(_ c: Case) {
        let p = Problem(c)
        let (output, expected) = Self.definition(c, p)
        let direct = Self.run(c, p, .direct), gemm = Self.run(c, p, .unfolded(imagesPerGroup: nil))
        for (name, reference, actual, unfolded) in [("forward", output, direct.0, gemm.0),
                                                    ("input gradient", expected.input, direct.1, gemm.1),
                                                    ("weight gradient", expected.weight, direct.2, gemm.2)] {
            let error = Self.relativeError(actual, reference), gemmError = Self.relativeError(unfolded, reference)
            print("strided \(name) \(c): \(error) GEMM \(gemmError)")
            #expect(error <= Self.tolerance, "\(name) \(c): \(error), GEMM \(gemmError)")
        }
    }

    /// Images are independent in the forward pass and the input gradient, and each input channel's weight
    /// gradient is summed by one thread in one order: the thread count changes no bit.
    @Test(arguments: [cases[3], cases[6], cases[9]])
    func twoThreadsGiveTheSameBits(_ c: Case) {
        let p = Problem(c)
        let one = Self.run(c, p, .direct)
        let two = ComputeThreads.with(threads: 2) { Self.run(c, p, .direct) }
        #expect(one.0 == two.0)
        #expect(one.1 == two.1)
        #expect(one.2 == two.2)
    }

    /// The products over phases (`PhasedConvolution`): images of even sizes whose grids leave no whole panel or
    /// many, one output position, more input channels than one chunk of a panel, several images; the forward pass
    /// and the input gradient against the definition.
    static let phasedCases: [Case] = [
        Case(batch: 2, channels: 8, height: 8, width: 8, outputs: 16, padding: 1),
        Case(batch: 3, channels: 16, height: 32, width: 32, outputs: 8, padding: 1),
        Case(batch: 2, channels: 24, height: 14, width: 14, outputs: 32, padding: 1),
        Case(batch: 2, channels: 136, height: 16, width: 12, outputs: 16, padding: 1),
        Case(batch: 1, channels: 16, height: 2, width: 2, outputs: 8, padding: 1),
    ]

    @Test(arguments: phasedCases)
    func phasedPassesMatchTheDefinition(_ c: Case) {
        let p = Problem(c)
        let (output, expected) = Self.definition(c, p)
        let phased = Self.run(c, p, .phased)
        let forward = Self.relativeError(phased.0, output), input = Self.relativeError(phased.1, expected.input)
        print("phased \(c): forward \(forward), input gradient \(input)")
        #expect(forward <= Self.tolerance && input <= Self.tolerance, "\(c): forward \(forward), input \(input)")
        let two = ComputeThreads.with(threads: 2) { Self.run(c, p, .phased) }
        #expect(two.0 == phased.0 && two.1 == phased.1, "\(c): 2 threads changed bits")
    }
}
