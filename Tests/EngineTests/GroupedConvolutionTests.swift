import Engine
import Testing

/// The convolution with several images in one GEMM against the definition, for every grouping of a batch of five
/// (one image per GEMM, groups with a remnant, the whole batch) and the grouping the kernel chooses itself.
@Suite struct GroupedConvolutionTests {
    static let inputShape = [5, 3, 9, 11]
    static let groupings: [Int?] = [1, 2, 3, 5, nil]

    struct Problem {
        let geometry: WindowGeometry
        let weightShape: [Int], outputShape: [Int]
        let x: [Float], w: [Float], b: [Float], dy: [Float]

        init(_ geometry: WindowGeometry) {
            self.geometry = geometry
            weightShape = [4, 3, geometry.kernelHeight, geometry.kernelWidth]
            let (oh, ow) = geometry.outputSize(height: 9, width: 11)
            outputShape = [5, 4, oh, ow]
            x = randomValues(Tensor.elementCount(GroupedConvolutionTests.inputShape), stream: 11)
            w = randomValues(Tensor.elementCount(weightShape), stream: 12)
            b = randomValues(4, stream: 13)
            dy = randomValues(Tensor.elementCount(outputShape), stream: 14)
        }
    }

    @Test(arguments: sweptGeometries + [WindowGeometry(kernel: 1)])
    func forwardMatchesTheDefinitionForEveryGrouping(geometry: WindowGeometry) {
        let p = Problem(geometry)
        let expected = NaiveConvolution.forward(input: p.x, inputShape: GroupedConvolutionTests.inputShape,
                                                weight: p.w, weightShape: p.weightShape, bias: p.b,
                                                geometry: geometry)
        let workspace = Workspace()
        for group in GroupedConvolutionTests.groupings {
            let y = Tensor(zeros: p.outputShape)
            y.fill(.nan)
            Convolution.forward(input: tensor(GroupedConvolutionTests.inputShape, p.x),
                                weight: tensor(p.weightShape, p.w), bias: tensor([4], p.b), geometry: geometry,
                                output: y, workspace: workspace, method: .unfolded(imagesPerGroup: group))
            expectClose(y.scalars, expected, absolute: 1e-4, "forward \(geometry), \(String(describing: group)) per group")
        }
    }

    @Test(arguments: sweptGeometries + [WindowGeometry(kernel: 1)])
    func backwardMatchesTheDefinitionForEveryGrouping(geometry: WindowGeometry) {
        let p = Problem(geometry)
        let expected = NaiveConvolution.backward(input: p.x, inputShape: GroupedConvolutionTests.inputShape,
                                                 weight: p.w, weightShape: p.weightShape, outputGradient: p.dy,
                                                 geometry: geometry)
        let workspace = Workspace()
        for group in GroupedConvolutionTests.groupings {
            let what = "\(geometry), \(String(describing: group)) per group"
            let dx = Tensor(zeros: GroupedConvolutionTests.inputShape)
            dx.fill(.nan)  // overwritten, not accumulated
            let dw = Tensor(zeros: p.weightShape), db = Tensor(zeros: [4])
            Convolution.backward(input: tensor(GroupedConvolutionTests.inputShape, p.x),
                                 outputGradient: tensor(p.outputShape, p.dy), weight: tensor(p.weightShape, p.w),
                                 geometry: geometry, weightGradient: dw, biasGradient: db, inputGradient: dx,
                                 workspace: workspace, method: .unfolded(imagesPerGroup: group))
            expectClose(dx.scalars, expected.input, absolute: 1e-4, "input gradient \(what)")
            expectClose(dw.scalars, expected.weight, absolute: 1e-4, "weight gradient \(what)")
            expectClose(db.scalars, expected.bias, absolute: 1e-4, "bias gradient \(what)")

            let dxAlone = Tensor(zeros: GroupedConvolutionTests.inputShape)
            Convolution.backwardInput(outputGradient: tensor(p.outputShape, p.dy), weight: tensor(p.weightShape, p.w),
                                      geometry: geometry, inputGradient: dxAlone, workspace: workspace,
                                      method: .unfolded(imagesPerGroup: group))
            expectClose(dxAlone.scalars, expected.input, absolute: 1e-4, "backwardInput \(what)")
        }
    }

    @Test func weightGradientWithoutInputGradientAccumulates() {
        let geometry = WindowGeometry(kernel: 3, stride: 2, padding: 1)
        let p = Problem(geometry)
        let expected = NaiveConvolution.backward(input: p.x, inputShape: GroupedConvolutionTests.inputShape,
                                                 weight: p.w, weightShape: p.weightShape, outputGradient: p.dy,
                                                 geometry: geometry)
        let dw = Tensor(zeros: p.weightShape), db = Tensor(zeros: [4])
        let workspace = Workspace()
        for group in [2, 3] {
            Convolution.backward(input: tensor(GroupedConvolutionTests.inputShape, p.x),
                                 outputGradient: tensor(p.outputShape, p.dy), weight: tensor(p.weightShape, p.w),
                                 geometry: geometry, weightGradient: dw, biasGradient: db, inputGradient: nil,
                                 workspace: workspace, method: .unfolded(imagesPerGroup: group))
        }
        expectClose(dw.scalars, expected.weight.map { 2 * $0 }, absolute: 2e-4, "weight gradient after two calls")
        expectClose(db.scalars, expected.bias.map { 2 * $0 }, absolute: 2e-4, "bias gradient after two calls")
    }

    @Test func stridedRowsOfIm2colHoldEachImageSideBySide() {
        // Two 1x2x3 images, 2x2 windows: each image's windows occupy its own half of every matrix row.
        let geometry = WindowGeometry(kernel: 2)
        let images: [Float] = [1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60]
        var columns = [Float](repeating: .nan, count: 4 * 4)
        images.withUnsafeBufferPointer { source in
            columns.withUnsafeMutableBufferPointer { matrix in
                for i in 0..<2 {
                    Im2col.im2col(image: source.baseAddress! + 6 * i, channels: 1, height: 2, width: 3,
                                  geometry: geometry, columns: matrix.baseAddress! + 2 * i, rowStride: 4)
                }
            }
        }
        expectEqual(columns, [1, 2, 10, 20,
                              2, 3, 20, 30,
                              4, 5, 40, 50,
                              5, 6, 50, 60], "columns")
    }
}
