import CCacheHints

/// The weight gradient of a pointwise convolution (1x1, stride 1, no padding), dW += Σ_images dY Xᵀ, with X and
/// dY one image's (channels, H*W) and (outputs, H*W) matrices, as a product of its own instead of OpenBLAS's GEMM.
///
/// The sum runs along the positions, which are contiguous in both operands; a register tile needs one operand with
/// vectors across its channels, so the input is transposed, a block of 64 channels x `chunk` positions at a time
/// (16x16 squares in registers), into a (positions, 64) panel that stays in L1. The tile is 4 output channels x 4
/// vectors of 16 input channels: per position it loads the panel's 4 vectors and broadcasts 4 output gradients,
/// read in place from their rows, for 16 FMAs. The positions run over the whole batch, image after image, so that
/// 14x14 and 7x7 images fill the chunks. Each task owns a block of 64 columns of dW and a range of its rows, so
/// every element is summed by one task in the order of the positions: the result does not depend on the threads.
/// The unfolded convolutions (strided, and 3x3 ones at 512 channels) take it too, on their unfolded groups.
///
/// The rows of both operands lie an image's positions apart, too many streams for the hardware prefetchers: the
/// transpose asks for the next chunk's line of each input row, and each tile for the next chunk's lines of its 4
/// output-gradient rows, into L2. ResNet-50's 1x1 layers at batch 16, Zen 5, one thread, calls alternating in one
/// process (GFLOP/s): 77-194 without those prefetches, 166-210 with them; OpenBLAS 0.3.21 ran them at 91-117 with
/// its Haswell kernels (which the environment may force: `OPENBLAS_CORETYPE`) and 138-210 with its SkylakeX ones,
/// which were faster only at 14x14 (202-205 against 164-180). On two threads 305-434 against Haswell's 175-222.
enum PointwiseWeightGradient {
    /// Input channels per panel: 4 vectors of 16.
    static let panelChannels = 64
    /// Output channels per tile.
    static let tileRows = 4
    /// Positions per panel: 96 x 64 floats (24 KB) is half of L1.
    static let chunk = 96

    /// Whether this kernel computes a weight gradient of `rows` output and `depth` input channels: AVX-512
    /// (16-float vectors), input channels in whole panels and output channels in whole tiles.
    static func applies(rows: Int, depth: Int) -> Bool {
        CPUFeatures.hasAVX512 && depth % panelChannels == 0 && rows % tileRows == 0
    }

    /// Whether the automatic choice takes this kernel where it applies, rather than OpenBLAS's GEMM: not on Intel
    /// CPUs. Its figures above are Zen 5's; on an Intel Xeon (family 6 model 167, AVX-512, OpenBLAS 0.3.21's
    /// Cooperlake kernels; one thread, calls alternating in one process, this kernel's time over the GEMM's, median
    /// of 5-6 calls) the GEMM was faster on 9 of ResNet-50's 13 weight-gradient shapes at batch 16 and about even
    /// on 3: the stride-1 1x1 layers 0.92-1.38x (256 -> 64 channels at 56x56 1.38x, 256 -> 1024 at 14x14 1.31x; 64
    /// -> 256 at 56x56 the one slower, 0.92x), the strided 1x1 layers 1.02-1.59x, the 3x3 one at 512 channels
    /// 1.22x; the whole ResNet-50 step 1.04x (0.96-1.19x, 8 alternating pairs). A choice by vendor rather than by
    /// timing keeps a machine's results the same from run to run.
    static let isFaster = CPUFeatures.fields["vendor_id"] != "GenuineIntel"

    /// weightGradient += Σ_images outputGradient · inputᵀ.
    static func accumulate(input: Tensor, outputGradient: Tensor, weightGradient: Tensor, sizes s: Convolution.Sizes,
                           workspace: Workspace) {
        let operands = Operands(images: s.batch, positions: s.positions, rows: s.outputChannels, depth: s.channels,
                                source: UnsafePointer(input.pointer), sourceStride: s.imageCount,
                                gradient: UnsafePointer(outputGradient.pointer), gradientStride: s.outputCount)
        accumulate(operands, into: weightGradient.pointer,
                   scratch: workspace.buffer(count: ComputeThreads.count * panelCount))
    }

    /// Floats of scratch per thread: one panel.
    static var panelCount: Int { chunk * panelChannels }

    /// The images of one call: (depth, positions) sources and (rows, positions) gradients, `sourceStride` and
    /// `gradientStride` apart (an unfolded group is one image of many positions).
    struct Operands {
        let images: Int, positions: Int, rows: Int, depth: Int
        let source: UnsafePointer<Float>, sourceStride: Int
        let gradient: UnsafePointer<Float>, gradientStride: Int
    }

    /// target (rows, depth) += Σ_images gradient · sourceᵀ, over the compute threads (`panelCount` floats of
    /// scratch each).
    static func accumulate(_ a: Operands, into target: UnsafeMutablePointer<Float>,
                           scratch: UnsafeMutablePointer<Float>) {
        precondition(applies(rows: a.rows, depth: a.depth), "PointwiseWeightGradient: \(a.rows)x\(a.depth)")
        let columnBlocks = a.depth / panelChannels, rowTiles = a.rows / tileRows
        // Enough tasks for every thread: column blocks first, then ranges of rows within them (which each transpose
        // the block's panels: a 64-channel input on two threads is transposed twice, a copy beside the products).
        let rowSplits = min(rowTiles, max(1, (ComputeThreads.count + columnBlocks - 1) / columnBlocks))
        ComputeThreads.forEach(columnBlocks * rowSplits) { task, thread in
            let block = task / rowSplits, split = task % rowSplits
            let tiles = rowTiles * split / rowSplits..<rowTiles * (split + 1) / rowSplits
            accumulate(a, columns: block * panelChannels, tiles: tiles, into: target,
                       panel: scratch + thread * panelCount)
        }
    }

    /// One task: the columns [c0, c0 + 64) of the rows of `tiles`, over every position of every image.
    static func accumulate(_ a: Operands, columns c0: Int, tiles: Range<Int>, into dw: UnsafeMutablePointer<Float>,
                           panel: UnsafeMutablePointer<Float>) {
        let positions = a.positions, total = a.images * positions
        // A chunk spans at most this many images.
        let maximumRuns = chunk / positions + 2
        withUnsafeTemporaryAllocation(of: Run.self, capacity: maximumRuns) { runs in
            for first in stride(from: 0, to: total, by: chunk) {
                var count = 0, offset = 0, image = first / positions, column = first % positions
                let end = min(first + chunk, total)
                while first + offset < end {
                    let length = min(end - first - offset, positions - column)
                    transpose(a.source + image * a.sourceStride + c0 * positions + column, rowStride: positions,
                              positions: length, into: panel + offset * panelChannels)
                    runs[count] = Run(gradient: image * a.gradientStride + column, panelRow: offset, length: length)
                    count += 1
                    offset += length
                    image += 1
                    column = 0
                }
                let chunkRuns = UnsafeBufferPointer(rebasing: runs[0..<count])
                for tile in tiles {
                    let o = tile * tileRows
                    multiply(runs: chunkRuns, gradient: a.gradient + o * positions, gradientRowStride: positions,
                             panel: panel, into: dw + o * a.depth + c0, rowStride: a.depth)
                }
            }
        }
    }

    /// Positions of one image within a chunk: where its output gradients start (at the tile's first row) and its
    /// first row in the panel.
    struct Run {
        let gradient: Int, panelRow: Int, length: Int
    }

    /// panel[j, c] = x[c * rowStride + j] for the 64 channels c and `positions` positions j, by 16x16 squares.
    @inline(__always)
    static func transpose(_ x: UnsafePointer<Float>, rowStride: Int, positions: Int,
                          into panel: UnsafeMutablePointer<Float>) {
        let whole = positions / 16 * 16
        withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 16) { square in
            let rows = square.baseAddress!
            for j0 in stride(from: 0, to: whole, by: 16) {
                for g in stride(from: 0, to: panelChannels, by: 16) {
                    for r in 0..<16 {
                        let row = x + (g + r) * rowStride + j0
                        dtrain_prefetch_l2(row + chunk)
                        rows[r] = load(row)
                    }
                    SIMD16<Float>.transpose(rows)
                    for r in 0..<16 { store(rows[r], panel + (j0 + r) * panelChannels + g) }
                }
            }
        }
        for j in whole..<positions {
            for c in 0..<panelChannels { panel[j * panelChannels + c] = x[c * rowStride + j] }
        }
    }

    /// dw[i, 0..<64] += Σ_runs Σ_j gradient[run.gradient + i * gradientRowStride + j]
    ///                              * panel[run.panelRow + j, 0..<64]
    /// for the tile's 4 rows i (rows `rowStride` apart).
    @inline(__always)
    static func multiply(runs: UnsafeBufferPointer<Run>, gradient: UnsafePointer<Float>, gradientRowStride: Int,
                         panel: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>, rowStride: Int) {
        typealias V = SIMD16<Float>
        var s = FourByFourSums<V>()
        let r = gradientRowStride
        // The next chunk's lines of the tile's rows, one per position while they last (4 rows x 6 lines).
        let ahead = gradient + runs[0].gradient + chunk
        var k = 0
        for run in runs {
            var d = gradient + run.gradient, x = panel + run.panelRow * panelChannels
            for _ in 0..<run.length {
                if k < 4 * chunk / 16 { dtrain_prefetch_l2(ahead + (k & 3) * r + (k >> 2) * 16) }
                k += 1
                let x0: V = load(x), x1: V = load(x + 16), x2: V = load(x + 32), x3: V = load(x + 48)
                s.add(d[0], d[r], d[2 * r], d[3 * r], x0, x1, x2, x3)
                d += 1
                x += panelChannels
            }
        }
        s.add(into: dw, stride: rowStride)
    }
}

/// The sums of 4 rows x 4 vectors, named one by one so that LLVM keeps them in registers.
private struct FourByFourSums<V: SIMD> where V.Scalar == Float {
    var a0 = V(), a1 = V(), a2 = V(), a3 = V(), b0 = V(), b1 = V(), b2 = V(), b3 = V()
    var c0 = V(), c1 = V(), c2 = V(), c3 = V(), e0 = V(), e1 = V(), e2 = V(), e3 = V()

    /// Row i += w_i * (x0, x1, x2, x3).
    @inline(__always)
    mutating func add(_ w0: Float, _ w1: Float, _ w2: Float, _ w3: Float, _ x0: V, _ x1: V, _ x2: V, _ x3: V) {
        var w = V(repeating: w0)
        a0.addProduct(w, x0); a1.addProduct(w, x1); a2.addProduct(w, x2); a3.addProduct(w, x3)
        w = V(repeating: w1)
        b0.addProduct(w, x0); b1.addProduct(w, x1); b2.addProduct(w, x2); b3.addProduct(w, x3)
        w = V(repeating: w2)
        c0.addProduct(w, x0); c1.addProduct(w, x1); c2.addProduct(w, x2); c3.addProduct(w, x3)
        w = V(repeating: w3)
        e0.addProduct(w, x0); e1.addProduct(w, x1); e2.addProduct(w, x2); e3.addProduct(w, x3)
    }

    /// target[i * stride + 0..<4 vectors] += row i.
    @inline(__always)
    func add(into target: UnsafeMutablePointer<Float>, stride: Int) {
        let n = V.scalarCount
        @inline(__always) func put(_ i: Int, _ v0: V, _ v1: V, _ v2: V, _ v3: V) {
            let row = target + i * stride
            store(load(row) + v0, row); store(load(row + n) + v1, row + n)
            store(load(row + 2 * n) + v2, row + 2 * n); store(load(row + 3 * n) + v3, row + 3 * n)
        }
        put(0, a0, a1, a2, a3); put(1, b0, b1, b2, b3); put(2, c0, c1, c2, c3); put(3, e0, e1, e2, e3)
    }
}
