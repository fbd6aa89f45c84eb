/// Max, average and global average pooling on NCHW tensors, each plane (n, c) pooled on its own.
///
/// Semantics follow PyTorch's `MaxPool2d`, `AvgPool2d` and `AdaptiveAvgPool2d(1)` with their defaults: floor output
/// sizes, padding that never wins a max, and averages that count the padding (divide by kh*kw always).
public enum Pooling {
    /// The sizes of a pooling, checked against each other.
    struct Sizes {
        let planes: Int, height: Int, width: Int, outputHeight: Int, outputWidth: Int
        var planeCount: Int { height * width }
        var outputPlaneCount: Int { outputHeight * outputWidth }

        init(function: String, input: [Int], output: [Int], geometry: WindowGeometry) {
            precondition(input.count == 4, "Pooling.\(function): input \(input) must be (N,C,H,W)")
            // PyTorch's bound: with padding at most half the kernel, every window holds an input element.
            precondition(2 * geometry.paddingHeight <= geometry.kernelHeight
                            && 2 * geometry.paddingWidth <= geometry.kernelWidth,
                         "Pooling.\(function): padding \(geometry.paddingHeight)x\(geometry.paddingWidth) exceeds "
                            + "half the kernel \(geometry.kernelHeight)x\(geometry.kernelWidth)")
            let (oH, oW) = geometry.outputSize(height: input[2], width: input[3])
            precondition(output == [input[0], input[1], oH, oW],
                         "Pooling.\(function): output \(output) must be \([input[0], input[1], oH, oW]) "
                            + "for input \(input)")
            planes = input[0] * input[1]
            height = input[2]
            width = input[3]
            outputHeight = oH
            outputWidth = oW
        }
    }

    /// Visits the windows of one plane: `body` receives the output index oh*oW + ow and the input rows and columns
    /// the window covers, clipped to the input.
    @inline(__always)
    static func forEachWindow(_ s: Sizes, _ geometry: WindowGeometry,
                              _ body: (_ output: Int, _ rows: Range<Int>, _ columns: Range<Int>) -> Void) {
        for oh in 0..<s.outputHeight {
            let top = oh * geometry.strideHeight - geometry.paddingHeight
            let rows = max(top, 0)..<min(top + geometry.kernelHeight, s.height)
            for ow in 0..<s.outputWidth {
                let left = ow * geometry.strideWidth - geometry.paddingWidth
                body(oh * s.outputWidth + ow, rows, max(left, 0)..<min(left + geometry.kernelWidth, s.width))
            }
        }
    }

    /// output = the maximum of each window; `argmax` receives, per output element, the index h*W + w within its
    /// input plane of the first maximum.
    public static func maxForward(input: Tensor, geometry: WindowGeometry, output: Tensor,
                                  argmax: UnsafeMutablePointer<Int32>) {
        // input is (N,C,H,W), output and argmax are (N,C,oH,oW)
        let s = Sizes(function: "maxForward", input: input.shape, output: output.shape, geometry: geometry)
        precondition(s.planeCount <= Int(Int32.max), "Pooling.maxForward: plane \(s.height)x\(s.width) too large")
        if geometry == WindowGeometry(kernel: 2, stride: 2) {
            maxForwardTwoByTwo(input: input.pointer, sizes: s, output: output.pointer, argmax: argmax)
            return
        }
        if geometry == WindowGeometry(kernel: 3, stride: 2, padding: 1) {
            maxForwardThreeByThree(input: input.pointer, sizes: s, output: output.pointer, argmax: argmax)
            return
        }
        ComputeThreads.forEachRange(s.planes) { planes in for plane in planes {
            let x = input.pointer + plane * s.planeCount
            let y = output.pointer + plane * s.outputPlaneCount
            let indices = argmax + plane * s.outputPlaneCount
            forEachWindow(s, geometry) { out, rows, columns in
                (y[out], indices[out]) = maximum(x, width: s.width, rows: rows, columns: columns)
            }
        } }
    }

    /// The first maximum of the window `rows` x `columns` of a plane `width` wide, and its index in the plane.
    @inline(__always)
    static func maximum(_ x: UnsafePointer<Float>, width: Int, rows: Range<Int>,
                        columns: Range<Int>) -> (Float, Int32) {
        var best = -Float.infinity
        var bestIndex = rows.lowerBound * width + columns.lowerBound
        for h in rows {
            for w in columns {
                let v = x[h * width + w]
                // Strictly greater keeps the first maximum; a NaN wins, as in PyTorch.
                if v > best || v.isNaN {
                    best = v
                    bestIndex = h * width + w
                }
            }
        }
        return (best, Int32(bestIndex))
    }

    /// `maxForward` for 2x2 windows at stride 2 without padding (LeNet's pooling): every window lies inside the
    /// image, so the four candidates are read directly, 8 windows at a time from two 16-wide rows (their even and
    /// odd lanes). The order of comparison is the general loop's, so ties and NaNs resolve the same way.
    static func maxForwardTwoByTwo(input: UnsafePointer<Float>, sizes s: Sizes, output: UnsafeMutablePointer<Float>,
                                   argmax: UnsafeMutablePointer<Int32>) {
        let lanes = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
        ComputeThreads.forEachRange(s.planes) { planes in for plane in planes {
            let x = input + plane * s.planeCount
            let y = output + plane * s.outputPlaneCount
            let indices = argmax + plane * s.outputPlaneCount
            for oh in 0..<s.outputHeight {
                let top = 2 * oh * s.width
                var ow = 0
                while ow + 8 <= s.outputWidth {
                    let first = top + 2 * ow
                    let upper = UnsafeRawPointer(x + first).loadUnaligned(as: SIMD16<Float>.self)
                    let lower = UnsafeRawPointer(x + first + s.width).loadUnaligned(as: SIMD16<Float>.self)
                    // The best so far and its offset from the window's first element (a NaN wins, as below).
                    var best = upper.evenHalf, winner = SIMD8<Int32>(repeating: 0)
                    @inline(__always) func candidate(_ v: SIMD8<Float>, _ offset: Int32) {
                        let wins = (v .> best) .| (v .!= v)
                        best.replace(with: v, where: wins)
                        winner.replace(with: SIMD8(repeating: offset), where: wins)
                    }
                    candidate(upper.oddHalf, 1)
                    candidate(lower.evenHalf, Int32(s.width))
                    candidate(lower.oddHalf, Int32(s.width + 1))
                    UnsafeMutableRawPointer(y + oh * s.outputWidth + ow).storeBytes(of: best, as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(indices + oh * s.outputWidth + ow)
                        .storeBytes(of: SIMD8(repeating: Int32(first)) &+ lanes &+ winner, as: SIMD8<Int32>.self)
                    ow += 8
                }
                while ow < s.outputWidth {
                    let first = top + 2 * ow
                    var best = -Float.infinity, bestIndex = first
                    @inline(__always) func consider(_ index: Int) {
                        let v = x[index]
                        if v > best || v.isNaN {
                            best = v
                            bestIndex = index
                        }
                    }
                    consider(first)
                    consider(first + 1)
                    consider(first + s.width)
                    consider(first + s.width + 1)
                    y[oh * s.outputWidth + ow] = best
                    indices[oh * s.outputWidth + ow] = Int32(bestIndex)
                    ow += 1
                }
            }
        } }
    }

    /// `maxForward` for 3x3 windows at stride 2 with padding 1 (ResNet's stem): windows wholly inside the image go
    /// 8 at a time, each of the 9 taps the even lanes of a 16-wide row load, compared in the general loop's order
    /// (rows, then columns; strictly greater, a NaN wins), so that ties and NaNs resolve the same way; the windows
    /// on the padding take the general loop.
    static func maxForwardThreeByThree(input: UnsafePointer<Float>, sizes s: Sizes,
                                       output: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>) {
        let lanes = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
        // Blocks of 8 windows from column 1 on whose loads (up to column 2 * first + 16) stay in the row, then one
        // block of the last 8 windows inside the row (overlapping the one before), loaded one column early.
        let lastBlock = (s.width - 17) / 2, lastInside = min((s.width - 2) / 2, s.outputWidth - 1)
        ComputeThreads.forEachRange(s.planes) { planes in for plane in planes {
            let x = input + plane * s.planeCount
            let y = output + plane * s.outputPlaneCount
            let indices = argmax + plane * s.outputPlaneCount
            @inline(__always) func window(_ oh: Int, _ ow: Int) {
                let top = 2 * oh - 1, left = 2 * ow - 1
                (y[oh * s.outputWidth + ow], indices[oh * s.outputWidth + ow]) =
                    maximum(x, width: s.width, rows: max(top, 0)..<min(top + 3, s.height),
                            columns: max(left, 0)..<min(left + 3, s.width))
            }
            /// Windows [ow, ow + 8) of row oh, which lie inside the image: each tap's 8 inputs are the even lanes
            /// of 16 loaded from it, or the odd lanes of 16 loaded from the column before when `early`.
            @inline(__always) func block(_ oh: Int, _ ow: Int, early: Bool) {
                let first = (2 * oh - 1) * s.width + 2 * ow - 1
                @inline(__always) func tap(_ i: Int, _ j: Int) -> SIMD8<Float> {
                    let p = UnsafeRawPointer(x + first + i * s.width + j - (early ? 1 : 0))
                    let loaded = p.loadUnaligned(as: SIMD16<Float>.self)
                    return early ? loaded.oddHalf : loaded.evenHalf
                }
                var best = tap(0, 0), winner = SIMD8<Int32>(repeating: 0)
                @inline(__always) func candidate(_ i: Int, _ j: Int) {
                    let v = tap(i, j)
                    let wins = (v .> best) .| (v .!= v)
                    best.replace(with: v, where: wins)
                    winner.replace(with: SIMD8(repeating: Int32(i * s.width + j)), where: wins)
                }
                candidate(0, 1); candidate(0, 2)
                candidate(1, 0); candidate(1, 1); candidate(1, 2)
                candidate(2, 0); candidate(2, 1); candidate(2, 2)
                UnsafeMutableRawPointer(y + oh * s.outputWidth + ow).storeBytes(of: best, as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(indices + oh * s.outputWidth + ow)
                    .storeBytes(of: SIMD8(repeating: Int32(first)) &+ lanes &+ winner, as: SIMD8<Int32>.self)
            }
            for oh in 0..<s.outputHeight {
                var ow = 0
                if oh >= 1 && 2 * oh + 1 < s.height {
                    window(oh, 0)
                    ow = 1
                    while ow <= lastBlock && ow + 7 < s.outputWidth {
                        block(oh, ow, early: false)
                        ow += 8
                    }
                    if ow <= lastInside && lastInside - 7 >= 1 {
                        block(oh, lastInside - 7, early: true)
                        ow = lastInside + 1
                    }
                }
                while ow < s.outputWidth {
                    window(oh, ow)
                    ow += 1
                }
            }
        } }
    }

    /// inputGradient = each output gradient routed to the input element its window's maximum came from (overwrites).
    public static func maxBackward(outputGradient: Tensor, argmax: UnsafePointer<Int32>, inputGradient: Tensor) {
        // outputGradient and argmax are (N,C,oH,oW), inputGradient is (N,C,H,W)
        precondition(outputGradient.rank == 4 && inputGradient.rank == 4
                        && outputGradient.shape[0] == inputGradient.shape[0]
                        && outputGradient.shape[1] == inputGradient.shape[1],
                     "Pooling.maxBackward: output gradient \(outputGradient.shape) and input gradient "
                        + "\(inputGradient.shape) must be (N,C,oH,oW) and (N,C,H,W)")
        let planes = inputGradient.shape[0] * inputGradient.shape[1]
        let planeCount = inputGradient.shape[2] * inputGradient.shape[3]
        let outputPlaneCount = outputGradient.shape[2] * outputGradient.shape[3]
        ComputeThreads.forEachRange(planes) { range in
            Elementwise.zero(inputGradient.pointer + range.lowerBound * planeCount, count: range.count * planeCount)
            for plane in range {
                let dx = inputGradient.pointer + plane * planeCount
                let dy = outputGradient.pointer + plane * outputPlaneCount
                let indices = argmax + plane * outputPlaneCount
                for i in 0..<outputPlaneCount {
                    dx[Int(indices[i])] += dy[i]
                }
            }
        }
    }

    /// output = the mean of each window, padding counted as zeros (divide by kh*kw).
    public static func averageForward(input: Tensor, geometry: WindowGeometry, output: Tensor) {
        // input is (N,C,H,W), output is (N,C,oH,oW)
        let s = Sizes(function: "averageForward", input: input.shape, output: output.shape, geometry: geometry)
        let scale = 1 / Float(geometry.kernelHeight * geometry.kernelWidth)
        for plane in 0..<s.planes {
            let x = input.pointer + plane * s.planeCount
            let y = output.pointer + plane * s.outputPlaneCount
            forEachWindow(s, geometry) { out, rows, columns in
                var total: Float = 0
                for h in rows {
                    for w in columns { total += x[h * s.width + w] }
                }
                y[out] = total * scale
            }
        }
    }

    /// inputGradient = each output gradient spread evenly over its window, 1/(kh*kw) per element (overwrites).
    public static func averageBackward(outputGradient: Tensor, geometry: WindowGeometry, inputGradient: Tensor) {
        // outputGradient is (N,C,oH,oW), inputGradient is (N,C,H,W)
        let s = Sizes(function: "averageBackward", input: inputGradient.shape, output: outputGradient.shape,
                      geometry: geometry)
        let scale = 1 / Float(geometry.kernelHeight * geometry.kernelWidth)
        inputGradient.fill(0)
        for plane in 0..<s.planes {
            let dx = inputGradient.pointer + plane * s.planeCount
            let dy = outputGradient.pointer + plane * s.outputPlaneCount
            forEachWindow(s, geometry) { out, rows, columns in
                let g = dy[out] * scale
                for h in rows {
                    for w in columns { dx[h * s.width + w] += g }
                }
            }
        }
    }

    /// output[n, c] = the mean of plane (n, c).
    public static func globalAverageForward(input: Tensor, output: Tensor) {
        // input is (N,C,H,W), output is (N,C)
        precondition(input.rank == 4 && output.shape == [input.shape[0], input.shape[1]],
                     "Pooling.globalAverageForward: input \(input.shape) must be (N,C,H,W) and output "
                        + "\(output.shape) (N,C)")
        let planeCount = input.shape[2] * input.shape[3]
        let scale = 1 / Float(planeCount)
        for plane in 0..<output.count {
            output.pointer[plane] = Reduction.sum(input.pointer + plane * planeCount, count: planeCount) * scale
        }
    }

    /// inputGradient[n, c, h, w] = outputGradient[n, c] / (H*W) (overwrites).
    public static func globalAverageBackward(outputGradient: Tensor, inputGradient: Tensor) {
        // outputGradient is (N,C), inputGradient is (N,C,H,W)
        precondition(inputGradient.rank == 4 && outputGradient.shape == [inputGradient.shape[0], inputGradient.shape[1]],
                     "Pooling.globalAverageBackward: output gradient \(outputGradient.shape) must be (N,C) and "
                        + "input gradient \(inputGradient.shape) (N,C,H,W)")
        let planeCount = inputGradient.shape[2] * inputGradient.shape[3]
        let scale = 1 / Float(planeCount)
        for plane in 0..<outputGradient.count {
            (inputGradient.pointer + plane * planeCount).update(repeating: outputGradient.pointer[plane] * scale,
                                                                count: planeCount)
        }
    }
}
