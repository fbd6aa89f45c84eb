import Engine
import Testing

@Suite struct PoolingTests {
    static let counting = Array(1...16).map(Float.init)

    /// Max pooling of an (N,C,H,W) tensor, returning the output and the argmax.
    static func maxPool(_ x: Tensor, _ geometry: WindowGeometry) -> (Tensor, [Int32]) {
        let (oh, ow) = geometry.outputSize(height: x.shape[2], width: x.shape[3])
        let y = Tensor(zeros: [x.shape[0], x.shape[1], oh, ow])
        var argmax = [Int32](repeating: -1, count: y.count)
        Pooling.maxForward(input: x, geometry: geometry, output: y, argmax: &argmax)
        return (y, argmax)
    }

    static func averagePool(_ x: Tensor, _ geometry: WindowGeometry) -> Tensor {
        let (oh, ow) = geometry.outputSize(height: x.shape[2], width: x.shape[3])
        let y = Tensor(zeros: [x.shape[0], x.shape[1], oh, ow])
        Pooling.averageForward(input: x, geometry: geometry, output: y)
        return y
    }

    @Test func maxOfTwoByTwoWindows() {
        let (y, argmax) = PoolingTests.maxPool(tensor([1, 1, 4, 4], PoolingTests.counting), WindowGeometry(kernel: 2, stride: 2))
        expectEqual(y.scalars, [6, 8, 14, 16], "output")
        #expect(argmax == [5, 7, 13, 15])
    }

    @Test func maxPaddingNeverWins() {
        // All inputs negative: zero padding would win every border window; PyTorch's padding is -infinity.
        let x = tensor([1, 1, 3, 3], (1...9).map { -Float($0) })
        let (y, argmax) = PoolingTests.maxPool(x, WindowGeometry(kernel: 3, stride: 1, padding: 1))
        expectEqual(y.scalars, [-1, -1, -2, -1, -1, -2, -4, -4, -5], "output")
        #expect(argmax == [0, 0, 1, 0, 0, 1, 3, 3, 4])
    }

    @Test func maxTiesPickTheFirstMaximum() {
        let (y, argmax) = PoolingTests.maxPool(tensor([1, 1, 2, 2], [1, 3, 3, 2]), WindowGeometry(kernel: 2))
        expectEqual(y.scalars, [3], "output")
        #expect(argmax == [1])
        let (_, flat) = PoolingTests.maxPool(tensor([1, 1, 2, 4], [Float](repeating: 7, count: 8)),
                                             WindowGeometry(kernel: 2, stride: 2))
        #expect(flat == [0, 2])
    }

    /// The vectorised 2x2 stride-2 pooling (8 windows at a time, then a scalar tail) against the rule written out:
    /// the first maximum in row order, a NaN replacing whatever came before it, on values with many ties.
    @Test func twoByTwoWindowsEightAtATimeKeepTheRule() {
        let shape = [2, 3, 5, 37]
        var values = randomValues(Tensor.elementCount(shape), stream: 5).map { ($0 * 3).rounded() }
        for i in stride(from: 7, to: values.count, by: 29) { values[i] = .nan }
        for i in stride(from: 11, to: values.count, by: 31) { values[i] = -.infinity }
        let (y, argmax) = PoolingTests.maxPool(tensor(shape, values), WindowGeometry(kernel: 2, stride: 2))
        let (height, width, oh, ow) = (5, 37, 2, 18)
        var expected: [Float] = [], expectedIndex: [Int32] = []
        for plane in 0..<6 {
            for row in 0..<oh {
                for column in 0..<ow {
                    let first = 2 * row * width + 2 * column
                    var best = -Float.infinity, index = first
                    for candidate in [first, first + 1, first + width, first + width + 1] {
                        let v = values[plane * height * width + candidate]
                        if v > best || v.isNaN { (best, index) = (v, candidate) }
                    }
                    expected.append(best)
                    expectedIndex.append(Int32(index))
                }
            }
        }
        #expect(argmax == expectedIndex)
        #expect(zip(y.scalars, expected).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
    }

    /// The vectorised 3x3 stride-2 pooling with padding 1 (8 inner windows at a time, the last 8 inside a row
    /// loaded one column early, the general loop on the border) against the rule written out, on values with many
    /// ties, NaNs and -infinity: widths too narrow for a block, of one block and the last, odd, and ResNet's 112.
    @Test(arguments: [17, 24, 41, 112])
    func threeByThreeWindowsEightAtATimeKeepTheRule(width: Int) {
        let height = 9, shape = [2, 3, height, width]
        var values = randomValues(Tensor.elementCount(shape), stream: 6).map { ($0 * 3).rounded() }
        for i in stride(from: 5, to: values.count, by: 37) { values[i] = .nan }
        for i in stride(from: 13, to: values.count, by: 23) { values[i] = -.infinity }
        let geometry = WindowGeometry(kernel: 3, stride: 2, padding: 1)
        let (y, argmax) = PoolingTests.maxPool(tensor(shape, values), geometry)
        let (oh, ow) = geometry.outputSize(height: height, width: width)
        var expected: [Float] = [], expectedIndex: [Int32] = []
        for plane in 0..<6 {
            for row in 0..<oh {
                for column in 0..<ow {
                    let rows = max(2 * row - 1, 0)..<min(2 * row + 2, height)
                    let columns = max(2 * column - 1, 0)..<min(2 * column + 2, width)
                    var best = -Float.infinity, index = rows.lowerBound * width + columns.lowerBound
                    for h in rows {
                        for w in columns {
                            let v = values[plane * height * width + h * width + w]
                            if v > best || v.isNaN { (best, index) = (v, h * width + w) }
                        }
                    }
                    expected.append(best)
                    expectedIndex.append(Int32(index))
                }
            }
        }
        #expect(argmax == expectedIndex)
        #expect(zip(y.scalars, expected).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
    }

    @Test func maxBackwardRoutesToTheArgmaxAndOverwrites() {
        // Overlapping windows (3x3, stride 1) send several gradients to the same maximum.
        let x = tensor([1, 1, 3, 3], (1...9).map { -Float($0) })
        let (_, argmax) = PoolingTests.maxPool(x, WindowGeometry(kernel: 3, stride: 1, padding: 1))
        let dy = tensor([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let dx = tensor([1, 1, 3, 3], [Float](repeating: 100, count: 9))
        Pooling.maxBackward(outputGradient: dy, argmax: argmax, inputGradient: dx)
        expectEqual(dx.scalars, [1 + 2 + 4 + 5, 3 + 6, 0, 7 + 8, 9, 0, 0, 0, 0], "input gradient")
    }

    @Test(arguments: [WindowGeometry(kernel: 2, stride: 2), WindowGeometry(kernel: 3, stride: 2, padding: 1),
                      WindowGeometry(kernel: 3, stride: 1, padding: 1),
                      WindowGeometry(kernelHeight: 3, kernelWidth: 2, strideHeight: 2, strideWidth: 1,
                                     paddingHeight: 1, paddingWidth: 0)])
    func backwardMatchesTheDefinition(geometry: WindowGeometry) {
        let shape = [2, 3, 7, 6]
        let values = randomValues(Tensor.elementCount(shape), stream: 1)
        let x = tensor(shape, values)
        let (y, argmax) = PoolingTests.maxPool(x, geometry)
        let dy = tensor(y.shape, randomValues(y.count, stream: 2))
        let (oh, ow) = (y.shape[2], y.shape[3])
        var expectedMax = [Double](repeating: 0, count: y.count)
        var expectedMaxGradient = [Double](repeating: 0, count: x.count)
        var expectedAverage = [Double](repeating: 0, count: y.count)
        var expectedAverageGradient = [Double](repeating: 0, count: x.count)
        let area = Double(geometry.kernelHeight * geometry.kernelWidth)
        for plane in 0..<6 {
            for i in 0..<oh {
                for j in 0..<ow {
                    let out = plane * oh * ow + i * ow + j
                    var best = -Double.infinity, bestIndex = -1, total = 0.0
                    for ki in 0..<geometry.kernelHeight {
                        for kj in 0..<geometry.kernelWidth {
                            let r = i * geometry.strideHeight - geometry.paddingHeight + ki
                            let q = j * geometry.strideWidth - geometry.paddingWidth + kj
                            guard r >= 0 && r < 7 && q >= 0 && q < 6 else { continue }
                            let index = plane * 42 + r * 6 + q
                            total += Double(values[index])
                            expectedAverageGradient[index] += Double(dy.pointer[out]) / area
                            if Double(values[index]) > best { best = Double(values[index]); bestIndex = index }
                        }
                    }
                    expectedMax[out] = best
                    expectedMaxGradient[bestIndex] += Double(dy.pointer[out])
                    expectedAverage[out] = total / area
                }
            }
        }
        expectClose(y.scalars, expectedMax, absolute: 0, "max output")
        let dx = Tensor(zeros: shape)
        dx.fill(.nan)
        Pooling.maxBackward(outputGradient: dy, argmax: argmax, inputGradient: dx)
        expectClose(dx.scalars, expectedMaxGradient, absolute: 1e-6, "max input gradient")

        expectClose(PoolingTests.averagePool(x, geometry).scalars, expectedAverage, absolute: 1e-6, "average output")
        dx.fill(.nan)
        Pooling.averageBackward(outputGradient: dy, geometry: geometry, inputGradient: dx)
        expectClose(dx.scalars, expectedAverageGradient, absolute: 1e-6, "average input gradient")
    }

    @Test func averageOfTwoByTwoWindows() {
        let y = PoolingTests.averagePool(tensor([1, 1, 4, 4], PoolingTests.counting), WindowGeometry(kernel: 2, stride: 2))
        expectEqual(y.scalars, [3.5, 5.5, 11.5, 13.5], "output")
    }

    @Test func averageCountsThePadding() {
        let y = PoolingTests.averagePool(tensor([1, 1, 3, 3], [Float](repeating: 1, count: 9)),
                                         WindowGeometry(kernel: 3, stride: 1, padding: 1))
        expectClose(y.scalars, [4, 6, 4, 6, 9, 6, 4, 6, 4].map { $0 / 9 }, absolute: 1e-7, "output")
    }

    @Test func globalAverage() {
        let x = tensor([2, 2, 2, 2], Array(1...16).map(Float.init))
        let y = Tensor(zeros: [2, 2])
        Pooling.globalAverageForward(input: x, output: y)
        expectEqual(y.scalars, [2.5, 6.5, 10.5, 14.5], "output")
        let dx = Tensor(zeros: [2, 2, 2, 2])
        dx.fill(.nan)
        Pooling.globalAverageBackward(outputGradient: tensor([2, 2], [4, 8, -4, 0]), inputGradient: dx)
        expectEqual(dx.scalars, [1, 1, 1, 1, 2, 2, 2, 2, -1, -1, -1, -1, 0, 0, 0, 0], "input gradient")
    }
}
