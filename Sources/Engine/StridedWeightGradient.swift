/// The weight gradient of a 3x3 convolution at stride 2 by register tiles whose vectors run across output channels,
/// so that nothing is summed across lanes.
///
/// dW[o, c, u, v] = Σ_n Σ_(i,j) dy[n, o, i, j] x[n, c, 2i + u - pad, 2j + v - pad]. The direct kernels' tiles run
/// their vectors along the output positions, the sum's own index, so that their sums are only added across lanes at
/// the end, over every position of a group of images: each tile streams its images' planes from L2 again, and an
/// output row of 8 fills half of a 16-float vector. Here the output gradient is transposed into vectors of output
/// channels, one per position, and a tile holds 2 vectors of output channels x the 9 taps of one input channel: per
/// position it loads the 2 gradient vectors and broadcasts the 9 inputs under the taps for 18 FMAs. The positions
/// are taken a band of output rows of one image at a time, whose transposed gradient stays in L1 while the tiles
/// walk across the input channels, and each tile's sums are added to those of the bands before.
///
/// The input is read from the zero-padded even/odd-column copy of `DirectConvolution.PaddedLayout`. The images go
/// in groups (padded inputs and transposed gradients in L2); the compute threads take ranges of input channels,
/// each summing its channels over the bands in the same order, so that the result does not depend on the thread
/// count.
enum StridedWeightGradient {
    /// Whether these kernels compute the weight gradient of this geometry: 3x3 at stride 2 with padding smaller
    /// than the kernel, with AVX-512 (without it, 16 registers of 8 floats leave one vector of output channels per
    /// tile, whose 9 broadcasts outnumber its 9 FMAs: the direct tiles stay).
    static func applies(to g: WindowGeometry) -> Bool {
        CPUFeatures.hasAVX512 && g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideHeight == 2
            && g.strideWidth == 2 && g.paddingHeight < 3 && g.paddingWidth < 3
    }

    /// Bytes of padded inputs and transposed gradients that one group of images may take.
    static let groupBytes = 1 << 20
    /// Bytes of transposed gradient that one band of output rows may take, to stay in L1.
    static let bandBytes = 16 << 10

    /// weightGradient += the gradient of the loss with respect to the weight.
    static func backwardWeight(input: Tensor, outputGradient: Tensor, geometry g: WindowGeometry,
                               weightGradient: Tensor, sizes s: Convolution.Sizes, workspace: Workspace) {
        backwardWeight(SIMD16<Float>.self, input: input, outputGradient: outputGradient, geometry: g,
                       weightGradient: weightGradient, sizes: s, workspace: workspace)
    }

    static func backwardWeight<V: WinogradVector>(_: V.Type, input: Tensor, outputGradient: Tensor,
                                                  geometry g: WindowGeometry, weightGradient: Tensor,
                                                  sizes s: Convolution.Sizes, workspace: Workspace) {
        // input is (N,C,H,W), outputGradient is (N,O,oH,oW), weightGradient is (O,C,3,3)
        let lanes = V.scalarCount
        let layout = DirectConvolution.PaddedLayout(channels: s.channels, height: s.height, width: s.width,
                                                    top: g.paddingHeight, left: g.paddingWidth,
                                                    outputHeight: s.outputHeight, outputWidth: s.outputWidth,
                                                    kernelHeight: 3, kernelWidth: 3, stride: 2, lanes: 1,
                                                    rowsPerTile: 1)
        let blocks = (s.outputChannels + lanes - 1) / lanes, paddedOutputs = blocks * lanes
        // The transposed gradient of one image: [block of output channels][position][lanes].
        let gradientImage = paddedOutputs * s.positions
        let perImage = (layout.count + gradientImage) * MemoryLayout<Float>.stride
        let group = max(1, min(s.batch, groupBytes / perImage))
        let rowBytes = s.outputWidth * paddedOutputs * MemoryLayout<Float>.stride
        let bandRows = max(1, min(s.outputHeight, bandBytes / rowBytes))
        // The sums, [input channel][tap][output channel]: a tile adds its vectors to them in place.
        let sumsCount = s.channels * 9 * paddedOutputs
        let scratch = workspace.buffer(count: sumsCount + group * (layout.count + gradientImage))
        let sums = scratch, padded = scratch + sumsCount, gradients = padded + group * layout.count
        Elementwise.zero(sums, count: sumsCount + group * layout.count)
        for first in stride(from: 0, to: s.batch, by: group) {
            let count = min(group, s.batch - first)
            ComputeThreads.forEach(count) { i, _ in
                layout.copy(input.pointer + (first + i) * s.imageCount, into: padded + i * layout.count)
                transpose(V.self, outputGradient.pointer + (first + i) * s.outputCount, sizes: s,
                          into: gradients + i * gradientImage)
            }
            ComputeThreads.forEachRange(s.channels) { channels in
                for i in 0..<count {
                    let x = padded + i * layout.count, gradient = gradients + i * gradientImage
                    for y0 in stride(from: 0, to: s.outputHeight, by: bandRows) {
                        let rows = y0..<min(y0 + bandRows, s.outputHeight)
                        for c in channels {
                            for b in stride(from: 0, to: blocks, by: 2) {
                                let target = sums + c * 9 * paddedOutputs + b * lanes
                                let source = gradient + b * s.positions * lanes
                                if b + 1 < blocks {
                                    tile(V.self, twoVectors: true, input: x + c * layout.planeStride,
                                         layout: layout, gradient: source, rows: rows, into: target,
                                         stride: paddedOutputs)
                                } else {
                                    tile(V.self, twoVectors: false, input: x + c * layout.planeStride,
                                         layout: layout, gradient: source, rows: rows, into: target,
                                         stride: paddedOutputs)
                                }
                            }
                        }
                    }
                }
            }
        }
        // weightGradient[o][c][tap] += sums[c][tap][o]
        for o in 0..<s.outputChannels {
            for c in 0..<s.channels {
                for tap in 0..<9 {
                    weightGradient.pointer[(o * s.channels + c) * 9 + tap] += sums[(c * 9 + tap) * paddedOutputs + o]
                }
            }
        }
    }

    /// One image's output gradient (O, oH*oW) transposed into [block of output channels][position][lanes], zeros
    /// past the last output channel, by squares of lanes x lanes in registers.
    static func transpose<V: WinogradVector>(_: V.Type, _ gradient: UnsafePointer<Float>, sizes s: Convolution.Sizes,
                                             into target: UnsafeMutablePointer<Float>) {
        let lanes = V.scalarCount, positions = s.positions
        withUnsafeTemporaryAllocation(of: V.self, capacity: lanes) { buffer in
            let square = buffer.baseAddress!
            for o0 in stride(from: 0, to: s.outputChannels, by: lanes) {
                let block = target + o0 * positions
                for p0 in stride(from: 0, to: positions, by: lanes) {
                    let count = min(lanes, positions - p0)
                    for l in 0..<lanes {
                        let row = gradient + (o0 + l) * positions + p0
                        if o0 + l >= s.outputChannels {
                            square[l] = V()
                        } else if count == lanes {
                            square[l] = load(row)
                        } else {
                            var v = V()
                            for k in 0..<count { v[k] = row[k] }
                            square[l] = v
                        }
                    }
                    V.transpose(square)
                    for p in 0..<count { store(square[p], block + (p0 + p) * lanes) }
                }
            }
        }
    }

    /// target[tap * stride + l] += Σ over the positions of `rows` of gradient[position][l] x the input under tap
    /// (u, v) = (tap / 3, tap % 3) of that position, for the lanes l of one vector of output channels (two when
    /// `twoVectors`, the second `lanes` on in the target and `positions * lanes` on in the gradient). `input` is
    /// one padded channel plane.
    @inline(__always)
    static func tile<V: SIMD>(_: V.Type, twoVectors: Bool, input: UnsafePointer<Float>,
                              layout: DirectConvolution.PaddedLayout, gradient: UnsafePointer<Float>,
                              rows: Range<Int>, into target: UnsafeMutablePointer<Float>, stride: Int)
    where V.Scalar == Float {
        var a = NineSums<V>(), b = NineSums<V>()
        let lanes = V.scalarCount, width = layout.outputWidth
        let second = layout.outputHeight * width * lanes, r = layout.rowStride
        // Kernel columns 0, 1, 2 of output j lie at j, phaseWidth + j and j + 1 of the even/odd-column row.
        let odd = layout.tapOffset(1)
        for y in rows {
            var x = input + y * layout.rowStep
            var g = gradient + y * width * lanes
            for _ in 0..<width {
                let g0: V = load(g)
                a.add(g0, x, odd: odd, rowStride: r)
                if twoVectors {
                    let g1: V = load(g + second)
                    b.add(g1, x, odd: odd, rowStride: r)
                }
                x += 1
                g += lanes
            }
        }
        a.add(into: target, stride: stride)
        if twoVectors { b.add(into: target + lanes, stride: stride) }
    }
}

/// The 9 taps' sums of one vector of output channels, named one by one so that LLVM keeps them in registers.
struct NineSums<V: SIMD> where V.Scalar == Float {
    var s0 = V(), s1 = V(), s2 = V(), s3 = V(), s4 = V(), s5 = V(), s6 = V(), s7 = V(), s8 = V()

    /// s[3u + v] += g * the input of tap (u, v): x[u * rowStride + (0, odd, 1)[v]] broadcast.
    @inline(__always)
    mutating func add(_ g: V, _ x: UnsafePointer<Float>, odd: Int, rowStride r: Int) {
        s0.addProduct(V(repeating: x[0]), g); s1.addProduct(V(repeating: x[odd]), g)
        s2.addProduct(V(repeating: x[1]), g); s3.addProduct(V(repeating: x[r]), g)
        s4.addProduct(V(repeating: x[r + odd]), g); s5.addProduct(V(repeating: x[r + 1]), g)
        s6.addProduct(V(repeating: x[2 * r]), g); s7.addProduct(V(repeating: x[2 * r + odd]), g)
        s8.addProduct(V(repeating: x[2 * r + 1]), g)
    }

    /// target[t * stride] += s_t, vector by vector.
    @inline(__always)
    func add(into target: UnsafeMutablePointer<Float>, stride: Int) {
        @inline(__always) func put(_ t: Int, _ v: V) {
            let p = target + t * stride
            store(load(p) + v, p)
        }
        put(0, s0); put(1, s1); put(2, s2); put(3, s3); put(4, s4); put(5, s5); put(6, s6); put(7, s7); put(8, s8)
    }
}
