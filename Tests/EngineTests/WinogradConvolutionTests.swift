import Engine
import Testing

/// Winograd's F(4x4, 3x3) against the definition, its error bounded next to the direct kernels' on the same
/// problem: output sizes that leave 1-3 rows and columns of a last tile, one tile to many per row, padding 0-2 (the
/// input gradient's padding is then 2-0), channel counts of one and several vectors, tile rows spread over several
/// blocks and images, with and without bias.
@Suite struct WinogradConvolutionTests {
    struct Case: CustomStringConvertible, Sendable {
        let batch: Int, channels: Int, height: Int, width: Int, outputs: Int, padding: Int
        var geometry: WindowGeometry { WindowGeometry(kernel: 3, padding: padding) }
        var description: String { "\(batch)x\(channels)x\(height)x\(width) -> \(outputs), padding \(padding)" }
    }

    static let cases: [Case] = [
        Case(batch: 2, channels: 16, height: 8, width: 8, outputs: 16, padding: 1),
        Case(batch: 3, channels: 16, height: 7, width: 7, outputs: 32, padding: 1),
        Case(batch: 2, channels: 32, height: 13, width: 10, outputs: 16, padding: 1),
        Case(batch: 1, channels: 16, height: 14, width: 14, outputs: 16, padding: 0),
        Case(batch: 2, channels: 16, height: 9, width: 11, outputs: 16, padding: 2),
        Case(batch: 2, channels: 16, height: 32, width: 32, outputs: 16, padding: 1),
        Case(batch: 5, channels: 64, height: 8, width: 8, outputs: 64, padding: 1),
        Case(batch: 1, channels: 48, height: 6, width: 70, outputs: 32, padding: 1),
    ]

    /// The largest difference from the definition, over the largest value of the definition.
    static func relativeError(_ actual: [Float], _ expected: [Double]) -> Double {
        let scale = expected.map(abs).max() ?? 1
        return zip(actual, expected).map { abs(Double($0) - $1) }.max().map { $0 / scale } ?? 0
    }

    /// Winograd may lose up to this fraction of the output's largest value: its transforms scale values by up to
    /// 8x in and out (Aᵀ's largest entry) and its kernel transform by 1/24, several bits more than the direct sum
    /// loses. Measured on these cases: 2e-6 to 5.4e-6, against 3e-7 to 9e-7 for the direct kernels.
    static let tolerance = 2e-5

    @Test(arguments: cases)
    func forwardMatchesTheDefinition(_ c: Case) {
        let inputShape = [c.batch, c.channels, c.height, c.width], weightShape = [c.outputs, c.channels, 3, 3]
        let (oh, ow) = c.geometry.outputSize(height: c.height, width: c.width)
        let outputShape = [c.batch, c.outputs, oh, ow]
        let x = randomValues(Tensor.elementCount(inputShape), stream: 61)
        let w = randomValues(Tensor.elementCount(weightShape), stream: 62), b = randomValues(c.outputs, stream: 63)
        for bias in [nil, b] {
            let expected = NaiveConvolution.forward(input: x, inputShape: inputShape, weight: w,
                                                    weightShape: weightShape, bias: bias, geometry: c.geometry)
            func error(_ method: Convolution.Method) -> Double {
                let y = Tensor(zeros: outputShape)
                y.fill(.nan)
                Convolution.forward(input: tensor(inputShape, x), weight: tensor(weightShape, w),
                                    bias: bias.map { tensor([c.outputs], $0) }, geometry: c.geometry, output: y,
                                    workspace: Workspace(), method: method)
                return Self.relativeError(y.scalars, expected)
            }
            let winograd = error(.winograd), direct = error(.direct)
            print("winograd forward \(c) bias \(bias != nil): \(winograd) direct \(direct)")
            #expect(winograd <= Self.tolerance, "forward \(c), bias \(bias != nil): \(winograd), direct \(direct)")
        }
    }

    @Test(arguments: cases)
    func inputGradientMatchesTheDefinition(_ c: Case) {
        let inputShape = [c.batch, c.channels, c.height, c.width], weightShape = [c.outputs, c.channels, 3, 3]
        let (oh, ow) = c.geometry.outputSize(height: c.height, width: c.width)
        let outputShape = [c.batch, c.outputs, oh, ow]
        let x = randomValues(Tensor.elementCount(inputShape), stream: 64)
        let w = randomValues(Tensor.elementCount(weightShape), stream: 65)
        let dy = randomValues(Tensor.elementCount(outputShape), stream: 66)
        let expected = NaiveConvolution.backward(input: x, inputShape: inputShape, weight: w, weightShape: weightShape,
                                                 outputGradient: dy, geometry: c.geometry)
        func error(_ method: Convolution.Method) -> Double {
            let dx = Tensor(zeros: inputShape)
            dx.fill(.nan)  // overwritten, not accumulated
            Convolution.backwardInput(outputGradient: tensor(outputShape, dy), weight: tensor(weightShape, w),
                                      geometry: c.geometry, inputGradient: dx, workspace: Workspace(), method: method)
            return Self.relativeError(dx.scalars, expected.input)
        }
        let winograd = error(.winograd), direct = error(.direct)
        print("winograd input gradient \(c): \(winograd) direct \(direct)")
        #expect(winograd <= Self.tolerance, "input gradient \(c): \(winograd), direct \(direct)")
    }

    @Test(arguments: cases)
    func weightGradientMatchesTheDefinition(_ c: Case) {
        let inputShape = [c.batch, c.channels, c.height, c.width], weightShape = [c.outputs, c.channels, 3, 3]
        let (oh, ow) = c.geometry.outputSize(height: c.height, width: c.width)
        let outputShape = [c.batch, c.outputs, oh, ow]
        let x = randomValues(Tensor.elementCount(inputShape), stream: 67)
        let w = randomValues(Tensor.elementCount(weightShape), stream: 68)
        let dy = randomValues(Tensor.elementCount(outputShape), stream: 69)
        let expected = NaiveConvolution.backward(input: x, inputShape: inputShape, weight: w, weightShape: weightShape,
                                                 outputGradient: dy, geometry: c.geometry)
        func error(_ method: Convolution.Method) -> Double {
            let dw = Tensor(zeros: weightShape)
            dw.fill(1)  // accumulated
            Convolution.backwardWeight(input: tensor(inputShape, x), outputGradient: tensor(outputShape, dy),
                                       geometry: c.geometry, weightGradient: dw, biasGradient: nil,
                                       workspace: Workspace(), method: method)
            return Self.relativeError(dw.scalars, expected.weight.map { $0 + 1 })
        }
        let winograd = error(.winograd), direct = error(.direct)
        print("winograd weight gradient \(c): \(winograd) direct \(direct)")
        #expect(winograd <= Self.tolerance, "weight gradient \(c): \(winograd), direct \(direct)")
    }

    /// At padding 1 both gradients are computed in one sweep over the output gradient (`Convolution.backward`):
    /// both are the separate passes' to the bit (the same arithmetic on the same staged values, summed over the
    /// same blocks), and the weight gradient matches the definition.
    @Test(arguments: cases.filter { $0.padding == 1 })
    func bothGradientsInOneSweepMatchTheSeparatePasses(_ c: Case) {
        let inputShape = [c.batch, c.channels, c.height, c.width], weightShape = [c.outputs, c.channels, 3, 3]
        let outputShape = [c.batch, c.outputs, c.height, c.width]
        let x = randomValues(Tensor.elementCount(inputShape), stream: 70)
        let w = randomValues(Tensor.elementCount(weightShape), stream: 71)
        let dy = randomValues(Tensor.elementCount(outputShape), stream: 72)
        let expected = NaiveConvolution.backward(input: x, inputShape: inputShape, weight: w, weightShape: weightShape,
                                                 outputGradient: dy, geometry: c.geometry)
        let dx = Tensor(zeros: inputShape), dw = Tensor(zeros: weightShape)
        let separateInput = Tensor(zeros: inputShape), separateWeight = Tensor(zeros: weightShape)
        dx.fill(.nan)
        dw.fill(1)  // accumulated
        separateWeight.fill(1)
        Convolution.backward(input: tensor(inputShape, x), outputGradient: tensor(outputShape, dy),
                             weight: tensor(weightShape, w), geometry: c.geometry, weightGradient: dw,
                             biasGradient: nil, inputGradient: dx, workspace: Workspace(), method: .winograd)
        Convolution.backwardInput(outputGradient: tensor(outputShape, dy), weight: tensor(weightShape, w),
                                  geometry: c.geometry, inputGradient: separateInput, workspace: Workspace(),
                                  method: .winograd)
        Convolution.backwardWeight(input: tensor(inputShape, x), outputGradient: tensor(outputShape, dy),
                                   geometry: c.geometry, weightGradient: separateWeight, biasGradient: nil,
                                   workspace: Workspace(), method: .winograd)
        let weightError = Self.relativeError(dw.scalars, expected.weight.map { $0 + 1 })
        print("winograd fused backward \(c): weight gradient \(weightError)")
        #expect(dx.scalars == separateInput.scalars, "input gradient \(c) differs from the separate pass's")
        #expect(dw.scalars == separateWeight.scalars, "weight gradient \(c) differs from the separate pass's")
        #expect(weightError <= Self.tolerance, "weight gradient \(c): \(weightError)")
    }

    /// Outputs larger than the caches are streamed (`StreamingStores`): a 42 MB forward output and input gradient,
    /// more than four times any L2, against the direct kernels; the input gradient of the separate pass and of the
    /// one computed with the weight gradient.
    @Test func largeOutputsAreStreamedCorrectly() {
        let shape = [2, 16, 576, 576], weightShape = [16, 16, 3, 3], geometry = WindowGeometry(kernel: 3, padding: 1)
        let x = randomValues(Tensor.elementCount(shape), stream: 67), dy = randomValues(x.count, stream: 68)
        let w = randomValues(Tensor.elementCount(weightShape), stream: 69)
        func results(_ method: Convolution.Method) -> (output: [Float], inputGradient: [Float], fused: [Float]) {
            let y = Tensor(zeros: shape), dx = Tensor(zeros: shape), fused = Tensor(zeros: shape)
            y.fill(.nan)
            dx.fill(.nan)
            fused.fill(.nan)
            Convolution.forward(input: tensor(shape, x), weight: tensor(weightShape, w), bias: nil, geometry: geometry,
                                output: y, workspace: Workspace(), method: method)
            Convolution.backwardInput(outputGradient: tensor(shape, dy), weight: tensor(weightShape, w),
                                      geometry: geometry, inputGradient: dx, workspace: Workspace(), method: method)
            Convolution.backward(input: tensor(shape, x), outputGradient: tensor(shape, dy),
                                 weight: tensor(weightShape, w), geometry: geometry,
                                 weightGradient: Tensor(zeros: weightShape), biasGradient: nil, inputGradient: fused,
                                 workspace: Workspace(), method: method)
            return (y.scalars, dx.scalars, fused.scalars)
        }
        let winograd = results(.winograd), direct = results(.direct)
        let forward = Self.relativeError(winograd.output, direct.output.map(Double.init))
        let input = Self.relativeError(winograd.inputGradient, direct.inputGradient.map(Double.init))
        let fused = Self.relativeError(winograd.fused, direct.inputGradient.map(Double.init))
        print("streamed winograd forward \(forward), input gradient \(input), with the weight gradient \(fused) "
              + "from the direct kernels'")
        #expect(forward <= Self.tolerance && input <= Self.tolerance && fused <= Self.tolerance,
                "forward \(forward), input gradient \(input), with the weight gradient \(fused)")
    }
}
