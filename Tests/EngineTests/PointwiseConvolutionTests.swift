import Engine
import Testing

/// The pointwise products against the definition, next to the GEMM's error on the same problem: positions that
/// leave no whole panel, a last panel of 1 position or none, many panels; channel counts of one tile's rows and of
/// several, and more input channels than one chunk of a panel; one image and several; with and without bias; the
/// same bits on 1 and 2 threads.
@Suite struct PointwiseConvolutionTests {
    struct Case: CustomStringConvertible, Sendable {
        let batch: Int, channels: Int, height: Int, width: Int, outputs: Int
        var description: String { "\(batch)x\(channels)x\(height)x\(width) -> \(outputs)" }
        var inputShape: [Int] { [batch, channels, height, width] }
        var weightShape: [Int] { [outputs, channels, 1, 1] }
        var outputShape: [Int] { [batch, outputs, height, width] }
    }

    static let cases: [Case] = [
        Case(batch: 1, channels: 8, height: 5, width: 9, outputs: 32),
        Case(batch: 2, channels: 16, height: 7, width: 7, outputs: 8),
        Case(batch: 5, channels: 16, height: 5, width: 5, outputs: 16),
        Case(batch: 3, channels: 24, height: 12, width: 12, outputs: 16),
        Case(batch: 2, channels: 40, height: 10, width: 10, outputs: 8),
        Case(batch: 2, channels: 64, height: 28, width: 28, outputs: 32),
        Case(batch: 2, channels: 200, height: 16, width: 16, outputs: 144),
    ]

    static let geometry = WindowGeometry(kernel: 1)

    /// The largest difference from the definition, over the largest value of the definition.
    static func relativeError(_ actual: [Float], _ expected: [Double]) -> Double {
        let scale = expected.map(abs).max() ?? 1
        return zip(actual, expected).map { abs(Double($0) - $1) }.max().map { $0 / scale } ?? 0
    }

    /// A float sum over at most 200 channels of products of values in [-1, 1]: measured 9e-8 to 4.8e-7 here, as the
    /// GEMM's.
    static let tolerance = 1e-5

    func forward(_ c: Case, _ x: [Float], _ w: [Float], _ bias: [Float]?, _ method: Convolution.Method) -> [Float] {
        let y = Tensor(zeros: c.outputShape)
        y.fill(.nan)  // overwritten, not accumulated
        Convolution.forward(input: tensor(c.inputShape, x), weight: tensor(c.weightShape, w),
                            bias: bias.map { tensor([c.outputs], $0) }, geometry: Self.geometry, output: y,
                            workspace: Workspace(), method: method)
        return y.scalars
    }

    func inputGradient(_ c: Case, _ dy: [Float], _ w: [Float], _ method: Convolution.Method) -> [Float] {
        let dx = Tensor(zeros: c.inputShape)
        dx.fill(.nan)
        Convolution.backwardInput(outputGradient: tensor(c.outputShape, dy), weight: tensor(c.weightShape, w),
                                  geometry: Self.geometry, inputGradient: dx, workspace: Workspace(), method: method)
        return dx.scalars
    }

    @Test(arguments: cases)
    func forwardMatchesTheDefinition(_ c: Case) {
        let x = randomValues(Tensor.elementCount(c.inputShape), stream: 71)
        let w = randomValues(Tensor.elementCount(c.weightShape), stream: 72), b = randomValues(c.outputs, stream: 73)
        for bias in [nil, b] {
            let expected = NaiveConvolution.forward(input: x, inputShape: c.inputShape, weight: w,
                                                    weightShape: c.weightShape, bias: bias, geometry: Self.geometry)
            let pointwise = Self.relativeError(forward(c, x, w, bias, .pointwise), expected)
            let gemm = Self.relativeError(forward(c, x, w, bias, .unfolded(imagesPerGroup: 1)), expected)
            print("pointwise forward \(c) bias \(bias != nil): \(pointwise) GEMM \(gemm)")
            #expect(pointwise <= Self.tolerance, "forward \(c), bias \(bias != nil): \(pointwise), GEMM \(gemm)")
        }
    }

    @Test(arguments: cases)
    func inputGradientMatchesTheDefinition(_ c: Case) {
        let x = randomValues(Tensor.elementCount(c.inputShape), stream: 74)
        let w = randomValues(Tensor.elementCount(c.weightShape), stream: 75)
        let dy = randomValues(Tensor.elementCount(c.outputShape), stream: 76)
        let expected = NaiveConvolution.backward(input: x, inputShape: c.inputShape, weight: w,
                                                 weightShape: c.weightShape, outputGradient: dy,
                                                 geometry: Self.geometry)
        let pointwise = Self.relativeError(inputGradient(c, dy, w, .pointwise), expected.input)
        let gemm = Self.relativeError(inputGradient(c, dy, w, .unfolded(imagesPerGroup: 1)), expected.input)
        print("pointwise input gradient \(c): \(pointwise) GEMM \(gemm)")
        #expect(pointwise <= Self.tolerance, "input gradient \(c): \(pointwise), GEMM \(gemm)")
    }

    /// The weight gradient's own kernel (AVX-512; elsewhere `.pointwise` falls back to the GEMM, which this then
    /// checks): positions per image below one 16x16 square (3x3), with a remainder (5x9, 7x7, 14x14) and whole
    /// (8x8); chunks of 96 positions that span up to 12 images; one panel of 64 input channels and several; output
    /// channels of one tile and many. The gradient is accumulated onto what the tensor held.
    static let weightGradientCases: [Case] = [
        Case(batch: 1, channels: 64, height: 5, width: 9, outputs: 4),
        Case(batch: 5, channels: 64, height: 3, width: 3, outputs: 8),
        Case(batch: 3, channels: 64, height: 7, width: 7, outputs: 16),
        Case(batch: 2, channels: 128, height: 14, width: 14, outputs: 12),
        Case(batch: 2, channels: 192, height: 8, width: 8, outputs: 36),
    ]

    func weightGradient(_ c: Case, _ x: [Float], _ dy: [Float], start: [Float], _ method: Convolution.Method)
        -> [Float] {
        let dw = tensor(c.weightShape, start)
        Convolution.backwardWeight(input: tensor(c.inputShape, x), outputGradient: tensor(c.outputShape, dy),
                                   geometry: Self.geometry, weightGradient: dw, biasGradient: nil,
                                   workspace: Workspace(), method: method)
        return dw.scalars
    }

    @Test(arguments: weightGradientCases)
    func weightGradientMatchesTheDefinition(_ c: Case) {
        let x = randomValues(Tensor.elementCount(c.inputShape), stream: 85)
        let dy = randomValues(Tensor.elementCount(c.outputShape), stream: 86)
        let start = randomValues(Tensor.elementCount(c.weightShape), stream: 87)
        let definition = NaiveConvolution.backward(input: x, inputShape: c.inputShape, weight: start,
                                                   weightShape: c.weightShape, outputGradient: dy,
                                                   geometry: Self.geometry).weight
        let expected = zip(definition, start).map { $0 + Double($1) }
        let pointwise = Self.relativeError(weightGradient(c, x, dy, start: start, .pointwise), expected)
        let gemm = Self.relativeError(weightGradient(c, x, dy, start: start, .unfolded(imagesPerGroup: 1)), expected)
        print("pointwise weight gradient \(c): \(pointwise) GEMM \(gemm)")
        #expect(pointwise <= Self.tolerance, "weight gradient \(c): \(pointwise), GEMM \(gemm)")
    }

    /// The unfolded convolutions' weight gradients take the same product when their unfolded rows (C*kh*kw) fill
    /// whole panels: strided 1x1 and 3x3 windows, stride 1 and 2, one image per group and several.
    @Test(arguments: [WindowGeometry(kernel: 1, stride: 2), WindowGeometry(kernel: 3, padding: 1),
                      WindowGeometry(kernel: 3, stride: 2, padding: 1)])
    func unfoldedWeightGradientsMatchTheDefinition(_ g: WindowGeometry) {
        let inputShape = [3, 64, 9, 11], weightShape = [8, 64, g.kernelHeight, g.kernelWidth]
        let (oh, ow) = g.outputSize(height: 9, width: 11)
        let outputShape = [3, 8, oh, ow]
        let x = randomValues(Tensor.elementCount(inputShape), stream: 90)
        let dy = randomValues(Tensor.elementCount(outputShape), stream: 91)
        let start = randomValues(Tensor.elementCount(weightShape), stream: 92)
        let definition = NaiveConvolution.backward(input: x, inputShape: inputShape, weight: start,
                                                   weightShape: weightShape, outputGradient: dy, geometry: g).weight
        let expected = zip(definition, start).map { $0 + Double($1) }
        for images in [1, 3] {
            let dw = tensor(weightShape, start)
            Convolution.backwardWeight(input: tensor(inputShape, x), outputGradient: tensor(outputShape, dy),
                                       geometry: g, weightGradient: dw, biasGradient: nil, workspace: Workspace(),
                                       method: .unfolded(imagesPerGroup: images))
            let error = Self.relativeError(dw.scalars, expected)
            print("unfolded weight gradient \(g), \(images) image(s) per group: \(error)")
            #expect(error <= Self.tolerance, "\(g), \(images) image(s) per group: \(error)")
        }
    }

    /// An unfolded convolution whose weight is larger than a block of the products (640 x 256 floats, 640 KB) is
    /// taken a block of rows at a time (512 rows, then 128): forward and input gradient against the definition.
    @Test func largeUnfoldedWeightsAreTakenInBlocks() {
        let g = WindowGeometry(kernel: 1, stride: 2)
        let inputShape = [2, 256, 10, 10], weightShape = [640, 256, 1, 1], outputShape = [2, 640, 5, 5]
        let x = randomValues(Tensor.elementCount(inputShape), stream: 93)
        let w = randomValues(Tensor.elementCount(weightShape), stream: 94)
        let dy = randomValues(Tensor.elementCount(outputShape), stream: 95)
        let expectedOutput = NaiveConvolution.forward(input: x, inputShape: inputShape, weight: w,
                                                      weightShape: weightShape, bias: nil, geometry: g)
        let expectedGradient = NaiveConvolution.backward(input: x, inputShape: inputShape, weight: w,
                                                         weightShape: weightShape, outputGradient: dy,
                                                         geometry: g).input
        let y = Tensor(zeros: outputShape), dx = Tensor(zeros: inputShape)
        Convolution.forward(input: tensor(inputShape, x), weight: tensor(weightShape, w), bias: nil, geometry: g,
                            output: y, workspace: Workspace())
        Convolution.backwardInput(outputGradient: tensor(outputShape, dy), weight: tensor(weightShape, w),
                                  geometry: g, inputGradient: dx, workspace: Workspace())
        let forwardError = Self.relativeError(y.scalars, expectedOutput)
        let gradientError = Self.relativeError(dx.scalars, expectedGradient)
        print("unfolded weight in blocks: forward \(forwardError), input gradient \(gradientError)")
        #expect(forwardError <= Self.tolerance && gradientError <= Self.tolerance,
                "forward \(forwardError), input gradient \(gradientError)")
    }

    /// Outputs larger than the caches are streamed (`StreamingStores`): a 52 MB forward output and input gradient,
    /// more than four times any L2, of 80x80 images whose panels of 48 positions also span the two images (those
    /// go through the gathered tile, not streamed), against the GEMM.
    @Test func largeOutputsAreStreamedCorrectly() {
        // 64 input channels, one pass of the panels; 256, one pass where an output that stays is taken in two.
        var forwardErrors: [Double] = []
        for (channels, outputs) in [(64, 1024), (256, 256)] {
            let c = Case(batch: 2, channels: channels, height: 80, width: 80, outputs: outputs)
            let x = randomValues(Tensor.elementCount(c.inputShape), stream: 80)
            let w = randomValues(Tensor.elementCount(c.weightShape), stream: 81), b = randomValues(outputs, stream: 82)
            forwardErrors.append(Self.relativeError(forward(c, x, w, b, .pointwise),
                                                    forward(c, x, w, b, .unfolded(imagesPerGroup: 1)).map(Double.init)))
        }
        let wide = Case(batch: 2, channels: 1024, height: 80, width: 80, outputs: 64)
        let dy = randomValues(Tensor.elementCount(wide.outputShape), stream: 83)
        let wt = randomValues(Tensor.elementCount(wide.weightShape), stream: 84)
        let gradientError = Self.relativeError(inputGradient(wide, dy, wt, .pointwise),
                                               inputGradient(wide, dy, wt, .unfolded(imagesPerGroup: 1))
                                                   .map(Double.init))
        print("streamed pointwise forward \(forwardErrors), input gradient \(gradientError) from the GEMM's")
        #expect(forwardErrors.allSatisfy { $0 <= Self.tolerance } && gradientError <= Self.tolerance,
                "forward \(forwardErrors), input gradient \(gradientError)")
    }

    /// Each position's sums are computed by one tile in one order whichever thread runs it: the thread count
    /// changes no bit.
    @Test func twoThreadsGiveTheSameBits() {
        let c = Self.cases.last!
        let x = randomValues(Tensor.elementCount(c.inputShape), stream: 77)
        let w = randomValues(Tensor.elementCount(c.weightShape), stream: 78)
        let dy = randomValues(Tensor.elementCount(c.outputShape), stream: 79)
        let one = forward(c, x, w, nil, .pointwise), oneBack = inputGradient(c, dy, w, .pointwise)
        let (two, twoBack) = ComputeThreads.with(threads: 2) {
            (forward(c, x, w, nil, .pointwise), inputGradient(c, dy, w, .pointwise))
        }
        #expect(one == two)
        #expect(oneBack == twoBack)
        // Weight gradients split by panels of input channels, and by output channels within one panel.
        for c in [Self.weightGradientCases[2], Self.weightGradientCases[3]] {
            let x = randomValues(Tensor.elementCount(c.inputShape), stream: 88)
            let dy = randomValues(Tensor.elementCount(c.outputShape), stream: 89)
            let start = [Float](repeating: 0, count: Tensor.elementCount(c.weightShape))
            let oneThread = weightGradient(c, x, dy, start: start, .pointwise)
            let twoThreads = ComputeThreads.with(threads: 2) { weightGradient(c, x, dy, start: start, .pointwise) }
            #expect(oneThread == twoThreads, "weight gradient \(c)")
        }
    }
}
