import Engine
import Testing

@Suite struct ConvolutionTests {
    /// Random input (N,C,H,W) = (2,3,9,11), weight (4,3,kh,kw), bias (4) and output gradient for `geometry`.
    struct Problem {
        let geometry: WindowGeometry
        let inputShape = [2, 3, 9, 11]
        let weightShape: [Int]
        let outputShape: [Int]
        let x: [Float], w: [Float], b: [Float], dy: [Float]

        init(_ geometry: WindowGeometry) {
            self.geometry = geometry
            weightShape = [4, 3, geometry.kernelHeight, geometry.kernelWidth]
            let (oh, ow) = geometry.outputSize(height: 9, width: 11)
            outputShape = [2, 4, oh, ow]
            x = randomValues(Tensor.elementCount(inputShape), stream: 1)
            w = randomValues(Tensor.elementCount(weightShape), stream: 2)
            b = randomValues(4, stream: 3)
            dy = randomValues(Tensor.elementCount(outputShape), stream: 4)
        }
    }

    static func convolve(_ x: [Float], _ xShape: [Int], _ w: [Float], _ wShape: [Int], bias: [Float]?,
                         _ geometry: WindowGeometry) -> [Float] {
        let (oh, ow) = geometry.outputSize(height: xShape[2], width: xShape[3])
        let output = Tensor(zeros: [xShape[0], wShape[0], oh, ow])
        output.fill(.nan)
        Convolution.forward(input: tensor(xShape, x), weight: tensor(wShape, w),
                            bias: bias.map { tensor([wShape[0]], $0) }, geometry: geometry, output: output,
                            workspace: Workspace())
        return output.scalars
    }

    @Test(arguments: sweptGeometries + [WindowGeometry(kernel: 1)])
    func forwardMatchesTheDefinition(geometry: WindowGeometry) {
        let p = Problem(geometry)
        for bias in [nil, p.b] {
            let expected = NaiveConvolution.forward(input: p.x, inputShape: p.inputShape, weight: p.w,
                                                    weightShape: p.weightShape, bias: bias, geometry: geometry)
            let actual = ConvolutionTests.convolve(p.x, p.inputShape, p.w, p.weightShape, bias: bias, geometry)
            expectClose(actual, expected, absolute: 1e-4, "forward \(geometry) bias \(bias != nil)")
        }
    }

    @Test(arguments: sweptGeometries + [WindowGeometry(kernel: 1)])
    func backwardMatchesTheDefinition(geometry: WindowGeometry) {
        let p = Problem(geometry)
        let expected = NaiveConvolution.backward(input: p.x, inputShape: p.inputShape, weight: p.w,
                                                 weightShape: p.weightShape, outputGradient: p.dy, geometry: geometry)
        let workspace = Workspace()
        let dx = Tensor(zeros: p.inputShape)
        dx.fill(.nan)  // backwardInput overwrites whatever is there.
        Convolution.backwardInput(outputGradient: tensor(p.outputShape, p.dy), weight: tensor(p.weightShape, p.w),
                                  geometry: geometry, inputGradient: dx, workspace: workspace)
        expectClose(dx.scalars, expected.input, absolute: 1e-4, "input gradient \(geometry)")

        let dw = Tensor(zeros: p.weightShape), db = Tensor(zeros: [4])
        Convolution.backwardWeight(input: tensor(p.inputShape, p.x), outputGradient: tensor(p.outputShape, p.dy),
                                   geometry: geometry, weightGradient: dw, biasGradient: db, workspace: workspace)
        expectClose(dw.scalars, expected.weight, absolute: 1e-4, "weight gradient \(geometry)")
        expectClose(db.scalars, expected.bias, absolute: 1e-4, "bias gradient \(geometry)")
    }

    @Test(arguments: [WindowGeometry(kernel: 3, stride: 2, padding: 1), WindowGeometry(kernel: 1)])
    func backwardWeightAccumulates(geometry: WindowGeometry) {
        let p = Problem(geometry)
        let expected = NaiveConvolution.backward(input: p.x, inputShape: p.inputShape, weight: p.w,
                                                 weightShape: p.weightShape, outputGradient: p.dy, geometry: geometry)
        let initialWeight = randomValues(p.w.count, stream: 5), initialBias = randomValues(4, stream: 6)
        let dw = tensor(p.weightShape, initialWeight), db = tensor([4], initialBias)
        let workspace = Workspace()
        for _ in 0..<2 {
            Convolution.backwardWeight(input: tensor(p.inputShape, p.x), outputGradient: tensor(p.outputShape, p.dy),
                                       geometry: geometry, weightGradient: dw, biasGradient: db, workspace: workspace)
        }
        expectClose(dw.scalars, zip(initialWeight, expected.weight).map { Double($0) + 2 * $1 }, absolute: 1e-4,
                    "weight gradient after two calls")
        expectClose(db.scalars, zip(initialBias, expected.bias).map { Double($0) + 2 * $1 }, absolute: 1e-4,
                    "bias gradient after two calls")
    }

    @Test func matchesPyTorch() {
        // x (2,3,5,6), w (4,3,3,3), b (4), stride 2, padding 1; see Tests/References/convolution_reference.py.
        let geometry = WindowGeometry(kernel: 3, stride: 2, padding: 1)
        let x = tensor([2, 3, 5, 6], pattern(180, scale: 0.37, phase: 0))
        let w = tensor([4, 3, 3, 3], pattern(108, scale: 0.23, phase: 1))
        let b = tensor([4], pattern(4, scale: 0.91, phase: 2))
        let dy = tensor([2, 4, 3, 3], pattern(72, scale: 0.53, phase: 0.5))
        let workspace = Workspace()
        let y = Tensor(zeros: [2, 4, 3, 3]), dx = Tensor(zeros: [2, 3, 5, 6])
        let dw = Tensor(zeros: [4, 3, 3, 3]), db = Tensor(zeros: [4])
        Convolution.forward(input: x, weight: w, bias: b, geometry: geometry, output: y, workspace: workspace)
        Convolution.backwardInput(outputGradient: dy, weight: w, geometry: geometry, inputGradient: dx,
                                  workspace: workspace)
        Convolution.backwardWeight(input: x, outputGradient: dy, geometry: geometry, weightGradient: dw,
                                   biasGradient: db, workspace: workspace)
        expectClose(y.scalars, ConvolutionReference.output, absolute: 1e-5, "output")
        expectClose(dx.scalars, ConvolutionReference.inputGradient, absolute: 1e-5, "input gradient")
        expectClose(dw.scalars, ConvolutionReference.weightGradient, absolute: 1e-5, "weight gradient")
        expectClose(db.scalars, ConvolutionReference.biasGradient, absolute: 1e-5, "bias gradient")
    }

    // MARK: Worked examples of the course material

    @Test func fiveByFiveImageWithThreeByThreeFilter() {
        let image: [Float] = [1, 1, 1, 0, 0,
                              0, 1, 1, 1, 0,
                              0, 0, 1, 1, 1,
                              0, 0, 1, 1, 0,
                              0, 1, 1, 0, 0]
        let filter: [Float] = [1, 0, 1,
                               0, 1, 0,
                               1, 0, 1]
        let y = ConvolutionTests.convolve(image, [1, 1, 5, 5], filter, [1, 1, 3, 3], bias: nil, WindowGeometry(kernel: 3))
        expectEqual(y, [4, 3, 4,
                        2, 4, 3,
                        2, 3, 4], "output")
    }

    static let red: [Float] = [156, 155, 156, 158, 158, 158, 153, 154, 157, 159, 159, 159, 149, 151, 155, 158, 159, 159,
                               146, 146, 149, 153, 158, 158, 145, 143, 143, 148, 158, 158]
    static let green: [Float] = [167, 166, 167, 169, 169, 169, 164, 165, 168, 170, 170, 170, 160, 162, 166, 169, 170,
                                 170, 156, 156, 159, 163, 168, 168, 155, 153, 153, 158, 168, 168]
    static let blue: [Float] = [163, 162, 163, 165, 165, 165, 160, 161, 164, 166, 166, 166, 156, 158, 162, 165, 166, 166,
                                155, 155, 158, 162, 167, 167, 154, 152, 152, 157, 167, 167]
    static let kernels: [[Float]] = [[-1, -1, 1, 0, 1, -1, 0, 1, 1],
                                     [1, 0, 0, 1, -1, -1, 1, 0, -1],
                                     [0, 1, 1, 0, 1, 0, 1, -1, 1]]

    @Test func threeChannelPaddedExample() {
        // Only the top-left 5x6 of each channel is given; outputs in rows 0-1 and columns 0-3 see no other pixel.
        let geometry = WindowGeometry(kernel: 3, padding: 1)
        let image = ConvolutionTests.red + ConvolutionTests.green + ConvolutionTests.blue
        let y = ConvolutionTests.convolve(image, [1, 3, 5, 6], ConvolutionTests.kernels.flatMap { $0 }, [1, 3, 3, 3],
                                          bias: [1], geometry)
        expectEqual(Array(y[0..<4]), [-25, 466, 466, 475], "output row 0")
        expectEqual(Array(y[6..<10]), [295, 787, 798, 812], "output row 1")

        // The per-channel partial sums at (0,0), (0,2), (0,3), (1,0), (1,1), (1,2), (1,3).
        let positions = [0, 2, 3, 6, 7, 8, 9]
        let partials: [[Float]] = [[308, 314, 318, 298, 148, 158, 161],
                                   [-498, -175, -173, -491, -8, -14, -9],
                                   [164, 326, 329, 487, 646, 653, 659]]
        for (channel, plane) in [ConvolutionTests.red, ConvolutionTests.green, ConvolutionTests.blue].enumerated() {
            let alone = ConvolutionTests.convolve(plane, [1, 1, 5, 6], ConvolutionTests.kernels[channel], [1, 1, 3, 3],
                                                  bias: nil, geometry)
            expectEqual(positions.map { alone[$0] }, partials[channel], "channel \(channel) partial sums")
        }
    }

    @Test func oneDimensionalConvolution() {
        let signal: [Float] = [1, 5, 1, 4, 2], kernel: [Float] = [1, -1, 1]
        let valid = ConvolutionTests.convolve(signal, [1, 1, 1, 5], kernel, [1, 1, 1, 3], bias: nil,
                                              WindowGeometry(kernelHeight: 1, kernelWidth: 3, strideHeight: 1,
                                                             strideWidth: 1, paddingHeight: 0, paddingWidth: 0))
        expectEqual(valid, [-3, 8, -1], "no padding")
        let padded = ConvolutionTests.convolve(signal, [1, 1, 1, 5], kernel, [1, 1, 1, 3], bias: nil,
                                               WindowGeometry(kernelHeight: 1, kernelWidth: 3, strideHeight: 1,
                                                              strideWidth: 1, paddingHeight: 0, paddingWidth: 1))
        expectEqual(padded, [4, -3, 8, -1, 2], "padding 1")
    }
}
