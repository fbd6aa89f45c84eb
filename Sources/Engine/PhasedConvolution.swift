/// A 3x3 convolution at stride 2 with padding 1 on images of even height and width (ResNet's downsampling 3x3
/// layers), forward and input gradient, as sums of the pointwise products (`PointwiseConvolution.Product`) over the
/// image's four phases (its even and odd rows by its even and odd columns).
///
/// Output (i, j) reads input rows 2i - 1, 2i and 2i + 1: rows i - 1 and i of the odd-row phase and row i of the
/// even-row phase, and the same for columns. Each phase is copied once into a plane with a zero row above and a
/// zero column left of it, rows oW + 1 apart; every tap of the kernel is then a pointwise product of the tap's
/// (O, C) weight with one such plane read in place from a fixed offset. The output is computed on the same grid of
/// oW + 1 columns, the last of each row discarded when the sums are compacted into NCHW. The input gradient is the
/// adjoint: each of its phases sums the taps that reach it (1, 2, 2 and 4) over the output gradient copied with a
/// zero row below and a zero column right, and the phases are interleaved into NCHW.
///
/// The strided kernels read the whole weight again for every 8 outputs, which at 256 and 512 channels (ResNet-50's
/// 9.4 MB) streams it from memory; the unfolded GEMM writes a 9-fold copy of the image and packs it again. Here the
/// register tiles keep their sums over all 9 taps, and the copies are the image's size. Measured one layer at a
/// time, alternating (Sapphire Rapids, one thread, GFLOP/s): the forward pass 71-83 against the GEMM's 65-73 at
/// ResNet-50's 256 channels and 67-79 against 64-71 at 512, but below `StridedForward` at 128 (57-95 against
/// 90-103) and ResNet-20's 16 (37-56 against 72-77); the input gradient 80-86 against the direct kernels' 50-52 at
/// ResNet-20's 32 channels, 72-90 against 56-82 at ResNet-50's 128, about even at 512; ResNet-20's step 4-11% faster
/// in 9 of 11 alternating pairs.
enum PhasedConvolution {
    /// Whether these kernels compute this pass: 3x3 at stride 2 with padding 1 on an even height and width, the
    /// rows of the products (output channels forward, input channels for the gradient) in whole tiles.
    static func applies(_ pass: Convolution.Pass, to g: WindowGeometry, sizes s: Convolution.Sizes) -> Bool {
        let rows = PointwiseConvolution.Product.tileRows
        guard g == WindowGeometry(kernel: 3, stride: 2, padding: 1) && s.height % 2 == 0 && s.width % 2 == 0 else {
            return false
        }
        switch pass {
        case .forward: return s.outputChannels % rows == 0
        case .inputGradient: return s.channels % rows == 0
        case .weightGradient: return false
        }
    }

    /// The planes of the phases and of the products' sums: oH rows of oW + 1 positions, and, for the planes read,
    /// a row above (the zero row) and one below, which the last taps reach past the discarded column.
    struct Grid {
        let height: Int, width: Int
        var rowStride: Int { width + 1 }
        var planeCount: Int { (height + 2) * rowStride }
        /// Positions of one plane of sums.
        var positions: Int { height * rowStride }
    }

    /// Tap k (0, 1, 2) of a kernel row or column reads row or column i - 1 of the odd phase (k = 0), i of the even
    /// one (k = 1) or i of the odd one (k = 2): the phase, and the offset in its plane from position i.
    @inline(__always)
    static func forwardTap(_ k: Int) -> (phase: Int, offset: Int) { k == 1 ? (0, 1) : (1, k / 2) }

    /// Input row or column 2i + p takes output row or column i + offset through kernel row or column `tap`, for
    /// 1 (p = 0) or 2 (p = 1) such taps.
    @inline(__always)
    static func reachingTaps(_ p: Int) -> Int { p + 1 }
    @inline(__always)
    static func backwardTap(_ p: Int, _ index: Int) -> (tap: Int, offset: Int) {
        p == 0 ? (1, 0) : index == 0 ? (0, 1) : (2, 0)
    }

    /// output = weight ⋆ input + bias for every image.
    static func forward(input: Tensor, weight: Tensor, bias: Tensor?, output: Tensor, sizes s: Convolution.Sizes,
                        workspace: Workspace) {
        let grid = Grid(height: s.outputHeight, width: s.outputWidth)
        let product = PointwiseConvolution.Product(rows: s.outputChannels, depth: s.channels,
                                                   columns: grid.positions, taps: 9)
        let phasesCount = s.batch * s.channels * 4 * grid.planeCount
        let sumsCount = s.batch * s.outputChannels * grid.positions
        let scratch = workspace.buffer(count: product.packedCount + phasesCount + sumsCount + product.scratchCount)
        let phases = scratch + product.packedCount, sums = phases + phasesCount
        for tap in 0..<9 {
            product.pack(weight.pointer + tap, rowStride: 9 * s.channels, depthStride: 9,
                         into: scratch + tap * s.outputChannels * s.channels)
        }
        split(input.pointer, planes: s.batch * s.channels, sizes: s, grid: grid, into: phases)
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 9) { offsets in
            for a in 0..<3 {
                for b in 0..<3 {
                    let (row, column) = (forwardTap(a), forwardTap(b))
                    offsets[a * 3 + b] = (2 * row.phase + column.phase) * grid.planeCount
                        + row.offset * grid.rowStride + column.offset
                }
            }
            product.run(packed: scratch, bias: bias?.pointer, images: s.batch, source: phases,
                        sourceStride: s.channels * 4 * grid.planeCount, sourceRowStride: 4 * grid.planeCount,
                        tapOffsets: UnsafeBufferPointer(offsets), target: sums,
                        targetStride: s.outputChannels * grid.positions, scratch: sums + sumsCount)
        }
        // The sums without the grid's last column.
        ComputeThreads.forEachRange(s.batch * s.outputChannels) { planes in
            for plane in planes {
                for i in 0..<grid.height {
                    (output.pointer + plane * s.positions + i * grid.width)
                        .update(from: sums + plane * grid.positions + i * grid.rowStride, count: grid.width)
                }
            }
        }
    }

    /// inputGradient = the gradient of the loss with respect to the input, overwriting it.
    static func backwardInput(outputGradient: Tensor, weight: Tensor, inputGradient: Tensor,
                              sizes s: Convolution.Sizes, workspace: Workspace) {
        let grid = Grid(height: s.outputHeight, width: s.outputWidth)
        let most = PointwiseConvolution.Product(rows: s.channels, depth: s.outputChannels, columns: grid.positions,
                                                taps: 4)
        let packedCount = 9 * s.channels * s.outputChannels
        let paddedCount = s.batch * s.outputChannels * grid.planeCount
        let phaseCount = s.batch * s.channels * grid.positions
        let scratch = workspace.buffer(count: packedCount + paddedCount + 4 * phaseCount + most.scratchCount)
        let padded = scratch + packedCount, phases = padded + paddedCount, productScratch = phases + 4 * phaseCount
        // The output gradient with a zero column right of each row and two zero rows below.
        ComputeThreads.forEachRange(s.batch * s.outputChannels) { planes in
            for plane in planes {
                let target = padded + plane * grid.planeCount
                for i in 0..<grid.height {
                    let row = target + i * grid.rowStride
                    row.update(from: outputGradient.pointer + plane * s.positions + i * grid.width, count: grid.width)
                    row[grid.width] = 0
                }
                (target + grid.positions).update(repeating: 0, count: 2 * grid.rowStride)
            }
        }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 4) { offsets in
            var packed = scratch
            for p in 0..<2 {
                for q in 0..<2 {
                    let taps = reachingTaps(p) * reachingTaps(q)
                    let product = PointwiseConvolution.Product(rows: s.channels, depth: s.outputChannels,
                                                               columns: grid.positions, taps: taps)
                    for tap in 0..<taps {
                        let (k, l) = (backwardTap(p, tap / reachingTaps(q)), backwardTap(q, tap % reachingTaps(q)))
                        // A[c, o] = weight[o, c, k, l].
                        product.pack(weight.pointer + k.tap * 3 + l.tap, rowStride: 9, depthStride: 9 * s.channels,
                                     into: packed + tap * s.channels * s.outputChannels)
                        offsets[tap] = k.offset * grid.rowStride + l.offset
                    }
                    product.run(packed: packed, bias: nil, images: s.batch, source: padded,
                                sourceStride: s.outputChannels * grid.planeCount, sourceRowStride: grid.planeCount,
                                tapOffsets: UnsafeBufferPointer(rebasing: offsets[0..<taps]),
                                target: phases + (2 * p + q) * phaseCount, targetStride: s.channels * grid.positions,
                                scratch: productScratch)
                    packed += product.packedCount
                }
            }
        }
        interleave(phases, phaseCount: phaseCount, planes: s.batch * s.channels, sizes: s, grid: grid,
                   into: inputGradient.pointer)
    }

    /// Copies each of `planes` planes of height x width into its four phases, [plane][phase 2p + q][grid plane]:
    /// phase (p, q) holds rows 2r + p and columns 2c + q at (r + 1, c + 1), zeros in row 0, column 0 and the last
    /// row.
    static func split(_ source: UnsafePointer<Float>, planes: Int, sizes s: Convolution.Sizes, grid: Grid,
                      into phases: UnsafeMutablePointer<Float>) {
        ComputeThreads.forEachRange(planes) { range in
            for plane in range {
                let x = source + plane * s.height * s.width, target = phases + plane * 4 * grid.planeCount
                for phase in 0..<4 {
                    let base = target + phase * grid.planeCount
                    base.update(repeating: 0, count: grid.rowStride)
                    (base + (grid.height + 1) * grid.rowStride).update(repeating: 0, count: grid.rowStride)
                }
                for y in 0..<s.height {
                    let row = x + y * s.width, offset = (y / 2 + 1) * grid.rowStride
                    let even = target + (y % 2) * 2 * grid.planeCount + offset, odd = even + grid.planeCount
                    even[0] = 0
                    odd[0] = 0
                    for c in 0..<grid.width {
                        even[c + 1] = row[2 * c]
                        odd[c + 1] = row[2 * c + 1]
                    }
                }
            }
        }
    }

    /// Writes the four phases of each plane (phase (p, q) of `planes` planes of sums, phaseCount floats after phase
    /// 2p + q - 1's) into rows 2r + p and columns 2c + q of the height x width planes.
    static func interleave(_ phases: UnsafePointer<Float>, phaseCount: Int, planes: Int, sizes s: Convolution.Sizes,
                           grid: Grid, into target: UnsafeMutablePointer<Float>) {
        ComputeThreads.forEachRange(planes) { range in
            for plane in range {
                for y in 0..<s.height {
                    let row = target + plane * s.height * s.width + y * s.width
                    let even = phases + (y % 2) * 2 * phaseCount + plane * grid.positions + y / 2 * grid.rowStride
                    let odd = even + phaseCount
                    for c in 0..<grid.width {
                        row[2 * c] = even[c]
                        row[2 * c + 1] = odd[c]
                    }
                }
            }
        }
    }
}
