import Engine
import Testing

/// The direct stride-1 kernels against the definition, on shapes that cross every edge of their tiles: output widths
/// on both sides of 8 and 16 lanes, heights that leave 1-3 rows of a last tile, output and input channel counts that
/// leave part of a 4-channel tile, input channels in several blocks, kernel rows of 1-3 taps past a 3-tap weight-gradient tile, and batches whose
/// images the weight gradient groups, at strides 1 and 2.
@Suite struct DirectConvolutionTests {
    struct Case: CustomStringConvertible, Sendable {
        let batch: Int, channels: Int, height: Int, width: Int, outputs: Int
        let geometry: WindowGeometry
        var description: String { "\(batch)x\(channels)x\(height)x\(width) -> \(outputs), \(geometry)" }
    }

    static let cases: [Case] = [
        // Stride 2: the even and odd columns of the padded rows (ResNet's downsampling, the 7x7 stem).
        Case(batch: 2, channels: 3, height: 9, width: 11, outputs: 4,
             geometry: WindowGeometry(kernel: 3, stride: 2, padding: 1)),
        Case(batch: 2, channels: 5, height: 16, width: 33, outputs: 6,
             geometry: WindowGeometry(kernel: 3, stride: 2, padding: 1)),
        Case(batch: 1, channels: 3, height: 20, width: 21, outputs: 5,
             geometry: WindowGeometry(kernel: 7, stride: 2, padding: 3)),
        Case(batch: 3, channels: 70, height: 16, width: 16, outputs: 5,
             geometry: WindowGeometry(kernel: 3, stride: 2, padding: 1)),
        Case(batch: 2, channels: 2, height: 10, width: 12, outputs: 4, geometry: WindowGeometry(kernel: 2, stride: 2)),
        Case(batch: 2, channels: 3, height: 9, width: 11, outputs: 4, geometry: WindowGeometry(kernel: 3, padding: 1)),
        Case(batch: 3, channels: 5, height: 7, width: 7, outputs: 6, geometry: WindowGeometry(kernel: 3, padding: 1)),
        Case(batch: 2, channels: 2, height: 8, width: 8, outputs: 3, geometry: WindowGeometry(kernel: 3, padding: 1)),
        Case(batch: 2, channels: 4, height: 17, width: 17, outputs: 9, geometry: WindowGeometry(kernel: 3, padding: 1)),
        Case(batch: 1, channels: 3, height: 6, width: 33, outputs: 5, geometry: WindowGeometry(kernel: 3, padding: 0)),
        Case(batch: 2, channels: 1, height: 28, width: 28, outputs: 6, geometry: WindowGeometry(kernel: 5, padding: 2)),
        Case(batch: 4, channels: 6, height: 14, width: 14, outputs: 16, geometry: WindowGeometry(kernel: 5)),
        Case(batch: 2, channels: 3, height: 10, width: 12, outputs: 4, geometry: WindowGeometry(kernel: 7, padding: 3)),
        // 64 channels of 40-wide rows take several blocks of input channels in the forward tiles.
        Case(batch: 1, channels: 64, height: 6, width: 40, outputs: 5, geometry: WindowGeometry(kernel: 3, padding: 1)),
        // 80 channels of 8-wide rows: the paired-row tiles of AVX-512 over two blocks of input channels.
        Case(batch: 2, channels: 80, height: 8, width: 8, outputs: 5, geometry: WindowGeometry(kernel: 3, padding: 1)),
        Case(batch: 9, channels: 16, height: 8, width: 8, outputs: 12, geometry: WindowGeometry(kernel: 3, padding: 1)),
        Case(batch: 2, channels: 3, height: 9, width: 10, outputs: 4,
             geometry: WindowGeometry(kernelHeight: 3, kernelWidth: 2, strideHeight: 1, strideWidth: 1,
                                      paddingHeight: 1, paddingWidth: 0)),
        Case(batch: 2, channels: 2, height: 5, width: 20, outputs: 4,
             geometry: WindowGeometry(kernelHeight: 1, kernelWidth: 4, strideHeight: 1, strideWidth: 1,
                                      paddingHeight: 0, paddingWidth: 2)),
    ]

    struct Problem {
        let inputShape: [Int], weightShape: [Int], outputShape: [Int]
        let x: [Float], w: [Float], b: [Float], dy: [Float]

        init(_ c: Case) {
            inputShape = [c.batch, c.channels, c.height, c.width]
            weightShape = [c.outputs, c.channels, c.geometry.kernelHeight, c.geometry.kernelWidth]
            let (oh, ow) = c.geometry.outputSize(height: c.height, width: c.width)
            outputShape = [c.batch, c.outputs, oh, ow]
            x = randomValues(Tensor.elementCount(inputShape), stream: 21)
            w = randomValues(Tensor.elementCount(weightShape), stream: 22)
            b = randomValues(c.outputs, stream: 23)
            dy = randomValues(Tensor.elementCount(outputShape), stream: 24)
        }
    }

    @Test(arguments: cases)
    func forwardMatchesTheDefinition(_ c: Case) {
        #expect(Convolution.appliesDirectly(.forward, to: c.geometry))
        let p = Problem(c)
        for bias in [nil, p.b] {
            let expected = NaiveConvolution.forward(input: p.x, inputShape: p.inputShape, weight: p.w,
                                                    weightShape: p.weightShape, bias: bias, geometry: c.geometry)
            let y = Tensor(zeros: p.outputShape)
            y.fill(.nan)
            Convolution.forward(input: tensor(p.inputShape, p.x), weight: tensor(p.weightShape, p.w),
                                bias: bias.map { tensor([c.outputs], $0) }, geometry: c.geometry, output: y,
                                workspace: Workspace(), method: .direct)
            expectClose(y.scalars, expected, absolute: 1e-4, "forward \(c), bias \(bias != nil)")
        }
    }

    @Test(arguments: cases)
    func gradientsMatchTheDefinition(_ c: Case) {
        let p = Problem(c)
        let expected = NaiveConvolution.backward(input: p.x, inputShape: p.inputShape, weight: p.w,
                                                 weightShape: p.weightShape, outputGradient: p.dy,
                                                 geometry: c.geometry)
        let workspace = Workspace()
        let dx = Tensor(zeros: p.inputShape)
        dx.fill(.nan)  // overwritten, not accumulated
        let dw = Tensor(zeros: p.weightShape), db = Tensor(zeros: [c.outputs])
        dw.fill(1)  // accumulated
        Convolution.backward(input: tensor(p.inputShape, p.x), outputGradient: tensor(p.outputShape, p.dy),
                             weight: tensor(p.weightShape, p.w), geometry: c.geometry, weightGradient: dw,
                             biasGradient: db, inputGradient: dx, workspace: workspace, method: .direct)
        expectClose(dx.scalars, expected.input, absolute: 1e-4, "input gradient \(c)")
        expectClose(dw.scalars, expected.weight.map { $0 + 1 }, absolute: 1e-4, "weight gradient \(c)")
        expectClose(db.scalars, expected.bias, absolute: 1e-4, "bias gradient \(c)")
    }

    @Test func pointwiseKernelsAreLeftToTheGEMM() {
        let strided = WindowGeometry(kernel: 3, stride: 2, padding: 1)
        #expect(Convolution.appliesDirectly(.forward, to: strided))
        #expect(Convolution.appliesDirectly(.weightGradient, to: strided))
        #expect(Convolution.appliesDirectly(.inputGradient, to: strided))
        #expect(!Convolution.appliesDirectly(.forward, to: WindowGeometry(kernel: 3, stride: 3, padding: 1)))
        #expect(!Convolution.appliesDirectly(.forward, to: WindowGeometry(kernel: 1)))
        #expect(!Convolution.appliesDirectly(.forward, to: WindowGeometry(kernel: 2, padding: 2)))
        #expect(Convolution.appliesDirectly(.inputGradient, to: WindowGeometry(kernel: 3, padding: 1)))
    }
}

/// A window covering the whole image (LeNet-5's conv3) is a fully connected layer, computed by one GEMM on the
/// batch; against the definition, with and without bias, for a square and an oblong kernel.
@Suite struct WholeImageConvolutionTests {
    @Test(arguments: [[3, 4, 5, 5], [2, 2, 4, 6]])
    func matchesTheDefinition(inputShape: [Int]) {
        let geometry = WindowGeometry(kernelHeight: inputShape[2], kernelWidth: inputShape[3], strideHeight: 1,
                                      strideWidth: 1, paddingHeight: 0, paddingWidth: 0)
        let weightShape = [7, inputShape[1], inputShape[2], inputShape[3]], outputShape = [inputShape[0], 7, 1, 1]
        let x = randomValues(Tensor.elementCount(inputShape), stream: 51)
        let w = randomValues(Tensor.elementCount(weightShape), stream: 52)
        let b = randomValues(7, stream: 53), dy = randomValues(Tensor.elementCount(outputShape), stream: 54)
        let workspace = Workspace()
        for bias in [nil, b] {
            let y = Tensor(zeros: outputShape)
            Convolution.forward(input: tensor(inputShape, x), weight: tensor(weightShape, w),
                                bias: bias.map { tensor([7], $0) }, geometry: geometry, output: y, workspace: workspace)
            let expected = NaiveConvolution.forward(input: x, inputShape: inputShape, weight: w,
                                                    weightShape: weightShape, bias: bias, geometry: geometry)
            expectClose(y.scalars, expected, absolute: 1e-4, "forward \(inputShape), bias \(bias != nil)")
        }
        let expected = NaiveConvolution.backward(input: x, inputShape: inputShape, weight: w, weightShape: weightShape,
                                                 outputGradient: dy, geometry: geometry)
        let dx = Tensor(zeros: inputShape), dw = Tensor(zeros: weightShape), db = Tensor(zeros: [7])
        dx.fill(.nan)
        Convolution.backward(input: tensor(inputShape, x), outputGradient: tensor(outputShape, dy),
                             weight: tensor(weightShape, w), geometry: geometry, weightGradient: dw, biasGradient: db,
                             inputGradient: dx, workspace: workspace)
        expectClose(dx.scalars, expected.input, absolute: 1e-4, "input gradient \(inputShape)")
        expectClose(dw.scalars, expected.weight, absolute: 1e-4, "weight gradient \(inputShape)")
        expectClose(db.scalars, expected.bias, absolute: 1e-4, "bias gradient \(inputShape)")
    }
}
