/// The forward pass of a 3x3 convolution at stride 2 by register tiles whose vectors run across output channels.
///
/// The direct kernels' tiles run their vectors along an output row; rows of 8 outputs (ResNet's 8x8 and 7x7 stages)
/// fill 16-float vectors only by pairing two rows, whose inputs are then loaded in halves and joined, a shuffle per
/// load on the ports the FMAs use. Here a tile holds 8 consecutive outputs of one row x 2 vectors of output channels:
/// per input channel and tap it loads the 2 vectors of the transposed kernel and broadcasts the
/// 8 inputs under the tap (consecutive in the even/odd-column copy of `DirectConvolution.PaddedLayout`) for 16
/// FMAs. The tiles' sums, one vector of output channels per position, are staged and transposed back into NCHW by
/// squares in registers. Images are independent: the result does not depend on the thread count.
enum StridedForward {
    /// Whether these kernels compute the forward pass of this geometry: 3x3 at stride 2 with padding smaller than
    /// the kernel, with AVX-512 (without it, 16 registers of 8 floats leave one vector of output channels per tile,
    /// whose 8 broadcasts outnumber its 8 FMAs: the direct tiles stay).
    static func applies(to g: WindowGeometry) -> Bool { StridedWeightGradient.applies(to: g) }

    /// Outputs of one row per tile.
    static let positionsPerTile = 8

    /// output = weight ⋆ input + bias for every image.
    static func forward(input: Tensor, weight: Tensor, bias: Tensor?, geometry g: WindowGeometry, output: Tensor,
                        sizes s: Convolution.Sizes, workspace: Workspace) {
        forward(SIMD16<Float>.self, input: input, weight: weight, bias: bias, geometry: g, output: output, sizes: s,
                workspace: workspace)
    }

    static func forward<V: WinogradVector>(_: V.Type, input: Tensor, weight: Tensor, bias: Tensor?,
                                           geometry g: WindowGeometry, output: Tensor, sizes s: Convolution.Sizes,
                                           workspace: Workspace) {
        // input is (N,C,H,W), weight is (O,C,3,3), bias is (O), output is (N,O,oH,oW)
        let lanes = V.scalarCount, tile = positionsPerTile
        let layout = DirectConvolution.PaddedLayout(channels: s.channels, height: s.height, width: s.width,
                                                    top: g.paddingHeight, left: g.paddingWidth,
                                                    outputHeight: s.outputHeight, outputWidth: s.outputWidth,
                                                    kernelHeight: 3, kernelWidth: 3, stride: 2, lanes: tile,
                                                    rowsPerTile: 1)
        let blocks = (s.outputChannels + lanes - 1) / lanes, paddedOutputs = blocks * lanes
        let rowPositions = roundUp(s.outputWidth, tile)
        // The staged sums of one image: [output row][position of the row, whole tiles][output channel].
        let stagedCount = s.outputHeight * rowPositions * paddedOutputs
        // The kernel transposed, [input channel][tap][output channel], and the bias, zeros past the last channel.
        let packedCount = s.channels * 9 * paddedOutputs
        let perThread = layout.count + stagedCount
        let scratch = workspace.buffer(count: packedCount + paddedOutputs + ComputeThreads.count * perThread)
        let packed = scratch, biases = scratch + packedCount, buffers = biases + paddedOutputs
        Elementwise.zero(scratch, count: packedCount + paddedOutputs + ComputeThreads.count * perThread)
        for o in 0..<s.outputChannels {
            for c in 0..<s.channels {
                for tap in 0..<9 {
                    packed[(c * 9 + tap) * paddedOutputs + o] = weight.pointer[(o * s.channels + c) * 9 + tap]
                }
            }
            biases[o] = bias?.pointer[o] ?? 0
        }
        ComputeThreads.forEach(s.batch) { n, thread in
            let padded = buffers + thread * perThread, staged = padded + layout.count
            layout.copy(input.pointer + n * s.imageCount, into: padded)
            for y in 0..<s.outputHeight {
                for j0 in stride(from: 0, to: s.outputWidth, by: tile) {
                    let x = padded + y * layout.rowStep + j0
                    let target = staged + (y * rowPositions + j0) * paddedOutputs
                    for b in stride(from: 0, to: blocks, by: 2) {
                        if b + 1 < blocks {
                            multiply(V.self, twoVectors: true, input: x, layout: layout,
                                     weights: packed + b * lanes, bias: biases + b * lanes,
                                     stride: paddedOutputs, into: target + b * lanes)
                        } else {
                            multiply(V.self, twoVectors: false, input: x, layout: layout,
                                     weights: packed + b * lanes, bias: biases + b * lanes,
                                     stride: paddedOutputs, into: target + b * lanes)
                        }
                    }
                }
            }
            unstage(V.self, staged, sizes: s, rowPositions: rowPositions, paddedOutputs: paddedOutputs,
                    into: output.pointer + n * s.outputCount)
        }
    }

    /// staged[(position k) * stride + l] = bias[l] + Σ_c Σ_tap weights[(c * 9 + tap) * stride + l] x the input under
    /// tap of output k of the tile, for the lanes l of one vector of output channels (two when `twoVectors`, the
    /// second `lanes` on). `input` is the padded input of the tile's first output, in channel 0.
    @inline(__always)
    static func multiply<V: SIMD>(_: V.Type, twoVectors: Bool, input: UnsafePointer<Float>,
                                  layout: DirectConvolution.PaddedLayout, weights: UnsafePointer<Float>,
                                  bias: UnsafePointer<Float>, stride: Int, into staged: UnsafeMutablePointer<Float>)
    where V.Scalar == Float {
        let lanes = V.scalarCount
        // Kernel columns 0, 1, 2 of output j lie at j, phaseWidth + j and j + 1 of the even/odd-column row.
        let columns = (layout.tapOffset(0), layout.tapOffset(1), layout.tapOffset(2))
        EightPositionSums.accumulate(twoVectors: twoVectors, input: input, channels: layout.channels,
                                     planeStride: layout.planeStride, rows: 3, rowStride: layout.rowStride, columns: 3,
                                     columnOffset: { $0 == 0 ? columns.0 : $0 == 1 ? columns.1 : columns.2 },
                                     weights: weights, stride: stride,
                                     start: (load(bias), twoVectors ? load(bias + lanes) : V()), into: staged)
    }

    /// One image's staged sums transposed into its NCHW output, by squares of lanes x lanes positions and output
    /// channels in registers; positions past a row's end are dropped.
    static func unstage<V: WinogradVector>(_: V.Type, _ staged: UnsafePointer<Float>, sizes s: Convolution.Sizes,
                                           rowPositions: Int, paddedOutputs: Int,
                                           into output: UnsafeMutablePointer<Float>) {
        let lanes = V.scalarCount
        // Rows without a tail are one run of positions.
        let (rows, width) = rowPositions == s.outputWidth ? (1, s.positions) : (s.outputHeight, s.outputWidth)
        withUnsafeTemporaryAllocation(of: V.self, capacity: lanes) { buffer in
            let square = buffer.baseAddress!
            for o0 in stride(from: 0, to: s.outputChannels, by: lanes) {
                let channels = min(lanes, s.outputChannels - o0)
                for y in 0..<rows {
                    for p0 in stride(from: 0, to: width, by: lanes) {
                        let count = min(lanes, width - p0)
                        for p in 0..<lanes {
                            square[p] = p < count ? load(staged + (y * rowPositions + p0 + p) * paddedOutputs + o0)
                                                  : V()
                        }
                        V.transpose(square)
                        for l in 0..<channels {
                            let target = output + (o0 + l) * s.positions + y * width + p0
                            if count == lanes {
                                store(square[l], target)
                            } else {
                                for p in 0..<count { target[p] = square[l][p] }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Eight vector sums, each of products with one of 8 consecutive inputs broadcast (the outputs of a strided tile,
/// one vector of channels each; the channels of a Winograd weight-gradient tile), named one by one so that LLVM
/// keeps them in registers.
struct EightPositionSums<V: SIMD> where V.Scalar == Float {
    var s0: V, s1: V, s2: V, s3: V, s4: V, s5: V, s6: V, s7: V

    @inline(__always)
    init(_ start: V) { (s0, s1, s2, s3, s4, s5, s6, s7) = (start, start, start, start, start, start, start, start) }

    /// s_k += w * x[k].
    @inline(__always)
    mutating func add(_ w: V, _ x: UnsafePointer<Float>) {
        s0.addProduct(V(repeating: x[0]), w); s1.addProduct(V(repeating: x[1]), w)
        s2.addProduct(V(repeating: x[2]), w); s3.addProduct(V(repeating: x[3]), w)
        s4.addProduct(V(repeating: x[4]), w); s5.addProduct(V(repeating: x[5]), w)
        s6.addProduct(V(repeating: x[6]), w); s7.addProduct(V(repeating: x[7]), w)
    }

    /// a_k += wa * x[k] and b_k += wb * x[k], each x[k] broadcast once.
    @inline(__always)
    static func add(_ a: inout Self, _ wa: V, _ b: inout Self, _ wb: V, _ x: UnsafePointer<Float>) {
        var t = V(repeating: x[0]); a.s0.addProduct(t, wa); b.s0.addProduct(t, wb)
        t = V(repeating: x[1]); a.s1.addProduct(t, wa); b.s1.addProduct(t, wb)
        t = V(repeating: x[2]); a.s2.addProduct(t, wa); b.s2.addProduct(t, wb)
        t = V(repeating: x[3]); a.s3.addProduct(t, wa); b.s3.addProduct(t, wb)
        t = V(repeating: x[4]); a.s4.addProduct(t, wa); b.s4.addProduct(t, wb)
        t = V(repeating: x[5]); a.s5.addProduct(t, wa); b.s5.addProduct(t, wb)
        t = V(repeating: x[6]); a.s6.addProduct(t, wa); b.s6.addProduct(t, wb)
        t = V(repeating: x[7]); a.s7.addProduct(t, wa); b.s7.addProduct(t, wb)
    }

    /// Over `channels` planes `planeStride` apart and the taps (i, j) of `rows` rows `rowStride` apart, column j
    /// at `columnOffset(j)`: a_k += w x[k] for the 8 inputs x from the tap and the weight vector w, which moves
    /// `stride` floats a tap, and with `twoVectors` b_k the same with the vector `lanes` after w; a and b start at
    /// `start` and are stored at `staged` (b `lanes` after it), one position `stride` apart.
    @inline(__always)
    static func accumulate(twoVectors: Bool, input: UnsafePointer<Float>, channels: Int, planeStride: Int, rows: Int,
                           rowStride: Int, columns: Int, columnOffset: (Int) -> Int, weights: UnsafePointer<Float>,
                           stride: Int, start: (V, V), into staged: UnsafeMutablePointer<Float>) {
        let lanes = V.scalarCount
        var a = Self(start.0), b = Self(start.1)
        var w = weights, plane = input
        for _ in 0..<channels {
            for i in 0..<rows {
                let row = plane + i * rowStride
                for j in 0..<columns {
                    let x = row + columnOffset(j)
                    let w0: V = load(w)
                    if twoVectors {
                        let w1: V = load(w + lanes)
                        add(&a, w0, &b, w1, x)
                    } else {
                        a.add(w0, x)
                    }
                    w += stride
                }
            }
            plane += planeStride
        }
        a.store(into: staged, stride: stride)
        if twoVectors { b.store(into: staged + lanes, stride: stride) }
    }

    /// target[k * stride] = s_k.
    @inline(__always)
    func store(into target: UnsafeMutablePointer<Float>, stride: Int) {
        Engine.store(s0, target); Engine.store(s1, target + stride); Engine.store(s2, target + 2 * stride)
        Engine.store(s3, target + 3 * stride); Engine.store(s4, target + 4 * stride)
        Engine.store(s5, target + 5 * stride); Engine.store(s6, target + 6 * stride)
        Engine.store(s7, target + 7 * stride)
    }
}
