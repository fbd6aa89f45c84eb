import CCacheHints

/// Pointwise convolution (1x1, stride 1, no padding) on NCHW tensors as products that read each image in place:
/// the forward pass, Y = W X, and the input gradient, dX = Wᵀ dY, with X, Y, dX, dY one image's (channels, H*W)
/// matrices.
///
/// OpenBLAS packs both operands of every product. Here the image already is the operand the vectors run along (its
/// rows are contiguous positions), so only the small weight is packed, once per call: rows of `rows` output
/// channels interleaved, so that a tile's weights for one input channel are one short contiguous run. A register
/// tile of `rows` output channels x 3 vectors of positions accumulates over every input channel: per channel it
/// loads 3 vectors of the image and broadcasts `rows` weights for 3 * rows FMAs. A panel of the image (3 vectors
/// of positions) is taken 128 input channels at a time, which stay in L1 while the tiles walk down the output
/// channels and the packed weight streams past, each chunk's sums added to the last's; a streamed output of up to
/// 256 input channels is taken in one pass, since the second pass would read back what the first one stored. The
/// positions are taken over the whole batch, image after image, so that 14x14 and 7x7 images fill the panels: a
/// panel that spans two images (or ends the batch) is copied into a zero-padded one first, so that no tile tests
/// bounds. The image's rows lie far apart, too many streams for the hardware prefetchers: the first tiles of a
/// panel ask for the next panel's cache lines, one per input channel, while they compute. They ask for them in L2,
/// not L1: a chunk's panel and the next one's would fill L1 (2 x 24 KB) and evict the panel being read. ResNet-50's
/// 56x56 1x1 layers with 256 input channels, one layer at a time, alternating: forward 62-76 -> 78-111 GFLOP/s,
/// input gradient 58-79 -> 71-90 (in one process, calls alternating: 1.08-1.21x and 1.22-1.24x); its 1x1 layers'
/// share of a step (against the layers the change does not touch) smaller in 6 of 8 alternating profiled pairs,
/// by 3% on average. Streaming those two in one pass of 256 channels, calls alternating in one process: 1.12-1.13x
/// and 1.13-1.17x, the other shapes unchanged (0.98-1.03x).
///
/// With AVX-512 the tile is 8 channels x 3 vectors of 16 (24 of the 32 registers hold sums), with AVX2 4 x 3
/// vectors of 8 (12 of 16).
enum PointwiseConvolution {
    /// Whether these kernels compute this pass: a pointwise geometry, the forward pass or the input gradient, and
    /// the rows of the product (output channels forward, input channels for the gradient) in whole tiles; the weight
    /// gradient where `PointwiseWeightGradient` applies. Where they apply they beat the GEMM, measured one layer at
    /// a time on ResNet-50's shapes at batch 16 (Sapphire Rapids, OpenBLAS Cooperlake kernels, GFLOP/s): forward and
    /// input gradient 104-132 against 72-94 at 28x28, 113-149 against 94-109 at 14x14, 98-141 against 72-125 at 7x7;
    /// at 56x56 both reach 80-105, bound by memory.
    static func applies(_ pass: Convolution.Pass, to g: WindowGeometry, sizes s: Convolution.Sizes) -> Bool {
        let rows = Product.tileRows
        switch pass {
        case .forward: return g.isPointwise && s.outputChannels % rows == 0
        case .inputGradient: return g.isPointwise && s.channels % rows == 0
        case .weightGradient:
            return g.isPointwise && PointwiseWeightGradient.applies(rows: s.outputChannels, depth: s.channels)
        }
    }

    // MARK: Entry points

    /// output = weight ⋆ input + bias for every image.
    static func forward(input: Tensor, weight: Tensor, bias: Tensor?, output: Tensor, sizes s: Convolution.Sizes,
                        workspace: Workspace) {
        let product = Product(rows: s.outputChannels, depth: s.channels, columns: s.positions)
        let scratch = workspace.buffer(count: product.packedCount + product.scratchCount)
        product.pack(weight.pointer, rowStride: s.channels, depthStride: 1, into: scratch)
        product.run(packed: scratch, bias: bias?.pointer, images: s.batch, source: input.pointer,
                    sourceStride: s.imageCount, target: output.pointer, targetStride: s.outputCount,
                    scratch: scratch + product.packedCount, mayStream: true)
    }

    /// inputGradient = weightᵀ outputGradient for every image.
    static func backwardInput(outputGradient: Tensor, weight: Tensor, inputGradient: Tensor,
                              sizes s: Convolution.Sizes, workspace: Workspace) {
        let product = Product(rows: s.channels, depth: s.outputChannels, columns: s.positions)
        let scratch = workspace.buffer(count: product.packedCount + product.scratchCount)
        product.pack(weight.pointer, rowStride: 1, depthStride: s.channels, into: scratch)
        product.run(packed: scratch, bias: nil, images: s.batch, source: outputGradient.pointer,
                    sourceStride: s.outputCount, target: inputGradient.pointer, targetStride: s.imageCount,
                    scratch: scratch + product.packedCount, mayStream: true)
    }

    /// target = A source (+ bias per row) image by image, A a (rows, depth) matrix, the weight (rows, depth) itself
    /// or the transpose of a (depth, rows) weight, and source and target (depth, columns) and (rows, columns)
    /// matrices. The weight is packed once (`pack`) for any number of products (`run`); the unfolded convolution
    /// multiplies its groups of unfolded images this way too.
    ///
    /// A product may also be a sum of `taps` products, target = Σ_t A_t source_t, each A_t packed after the last
    /// and each source_t the source read from an offset of its own (`PhasedConvolution`'s shifted phases of an
    /// image); a tile then sums them all before it stores.
    struct Product {
        let rows: Int, depth: Int, columns: Int
        /// The products summed: 1, or the taps of `PhasedConvolution`.
        var taps = 1
        /// Input channels per pass of a panel read in place: 128 x 3 vectors of 16 floats is half of L1.
        static let chunk = 128
        /// Input channels that one pass of a streamed product may take instead: 256 x 3 vectors fill L1, but a
        /// target streamed in one pass is written without being read first.
        static let streamedChunk = 256
        /// Bytes of packed weight that `blocksWeight` takes over a task's panels at a time: half of a Zen 5
        /// core's L2.
        static let weightBlockBytes = 512 << 10

        /// Rows of the register tiles on this CPU: a product's rows must be a multiple of them.
        static var tileRows: Int { CPUFeatures.hasAVX512 ? Tile8x3<SIMD16<Float>>.rows : Tile4x3<SIMD8<Float>>.rows }
        static var tileColumns: Int {
            CPUFeatures.hasAVX512 ? Tile8x3<SIMD16<Float>>.columns : Tile4x3<SIMD8<Float>>.columns
        }
        /// Floats of the packed weights.
        var packedCount: Int { taps * rows * depth }
        /// Floats of scratch a product needs: per thread, a gathered panel of every tap and the tile it produces.
        var scratchCount: Int { ComputeThreads.count * (taps * depth + Self.tileRows) * Self.tileColumns }

        /// Packs A[m, k] = weight[m * rowStride + k * depthStride] (a (rows, depth) weight: depth and 1; the
        /// transpose of a (depth, rows) one: 1 and rows) into the packed weights at `packed`, tap 0's place (a
        /// later tap's is rows * depth floats on per tap).
        func pack(_ weight: UnsafePointer<Float>, rowStride: Int, depthStride: Int,
                  into packed: UnsafeMutablePointer<Float>) {
            let r = Self.tileRows
            for m0 in stride(from: 0, to: rows, by: r) {
                let block = packed + m0 * depth
                for k in 0..<depth {
                    for i in 0..<r { block[k * r + i] = weight[(m0 + i) * rowStride + k * depthStride] }
                }
            }
        }

        /// The product for `images` images, their panels split over the compute threads (run inside another
        /// kernel's tasks, on the calling thread). With `mayStream`, a target that no one reads at once (a layer's
        /// output, not a scratch matrix) is streamed (`StreamingStores`) when it is large, one pass of up to
        /// `streamedChunk` input channels computes it (no sums are added to stored ones) and its rows are whole
        /// cache lines. The source's rows are `columns` apart unless `sourceRowStride` says otherwise; tap t reads
        /// the source from `tapOffsets[t]` on (no offset for one tap); `blocksWeight` as `Batch` says.
        func run(packed: UnsafePointer<Float>, bias: UnsafePointer<Float>?, images: Int,
                 source: UnsafePointer<Float>, sourceStride: Int, sourceRowStride: Int? = nil,
                 tapOffsets: UnsafeBufferPointer<Int>? = nil, target: UnsafeMutablePointer<Float>,
                 targetStride: Int, scratch: UnsafeMutablePointer<Float>, mayStream: Bool = false,
                 blocksWeight: Bool = false) {
            precondition(tapOffsets.map { $0.count == taps } ?? (taps == 1), "Product: \(taps) taps need their offsets")
            let streaming = mayStream && StreamingStores.pay(count: images * rows * columns)
                && depth <= Self.streamedChunk && taps == 1 && Int(bitPattern: target) % 64 == 0 && columns % 16 == 0
                && targetStride % 16 == 0
            withUnsafeTemporaryAllocation(of: Int.self, capacity: 1) { zero in
                zero[0] = 0
                let batch = Batch(images: images, source: source, sourceStride: sourceStride,
                                  sourceRowStride: sourceRowStride ?? columns,
                                  tapOffsets: tapOffsets ?? UnsafeBufferPointer(zero), target: target,
                                  targetStride: targetStride, streaming: streaming, blocksWeight: blocksWeight)
                run(packed: packed, bias: bias, batch: batch, scratch: scratch)
            }
        }

        func run(packed: UnsafePointer<Float>, bias: UnsafePointer<Float>?, batch: Batch,
                 scratch: UnsafeMutablePointer<Float>) {
            if CPUFeatures.hasAVX512 {
                run(Tile8x3<SIMD16<Float>>.self, packed: packed, bias: bias, batch: batch, scratch: scratch)
            } else {
                run(Tile4x3<SIMD8<Float>>.self, packed: packed, bias: bias, batch: batch, scratch: scratch)
            }
        }

        func run<T: PointwiseTile>(_: T.Type, packed: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                                   batch: Batch, scratch: UnsafeMutablePointer<Float>) {
            let width = T.columns, panels = (batch.images * columns + width - 1) / width
            let perThread = (taps * depth + T.rows) * width
            // Each thread takes a run of panels; a position's sum is the same whichever tile computes it.
            let tasks = min(ComputeThreads.count, panels)
            let blockRows = batch.blocksWeight
                ? max(T.rows, Self.weightBlockBytes / (taps * depth * 4) / T.rows * T.rows) : rows
            ComputeThreads.forEach(tasks) { task, thread in
                let gathered = scratch + thread * perThread
                for m in stride(from: 0, to: rows, by: blockRows) {
                    multiply(T.self, panels: panels * task / tasks..<panels * (task + 1) / tasks,
                             rows: m..<min(m + blockRows, rows), batch: batch, packed: packed, bias: bias,
                             gathered: gathered, tile: gathered + taps * depth * width)
                }
                if batch.streaming { StreamingStores.fence() }
            }
        }

        /// The images of one call, (depth, columns) matrices in (rows `sourceRowStride` apart, each tap's from its
        /// offset) and (rows, columns) out, whether tiles read in place stream their results.
        struct Batch {
            let images: Int, source: UnsafePointer<Float>, sourceStride: Int, sourceRowStride: Int
            let tapOffsets: UnsafeBufferPointer<Int>
            let target: UnsafeMutablePointer<Float>, targetStride: Int
            let streaming: Bool
            /// Whether the tiles go a block of `weightBlockBytes` of the weight's rows at a time over all the
            /// task's panels, so that it is read from L2 rather than from L3 for every panel: a few panels of
            /// many positions pay for it (the unfolded strided 1x1 layers), the batch's 7x7 images and the
            /// products over phases, which read their panels again for every block, do not.
            let blocksWeight: Bool
        }

        /// Calls body(image, column, count, offset) for the runs of one image's positions that make up the panel of
        /// `width` positions of the batch (image after image) from `first` on, `offset` being the run's first
        /// column in the panel; the runs stop at the batch's end.
        @inline(__always)
        func forEachRun(from first: Int, width: Int, images: Int, _ body: (Int, Int, Int, Int) -> Void) {
            var offset = 0, image = first / columns, column = first % columns
            while offset < width && image < images {
                let count = min(width - offset, columns - column)
                body(image, column, count, offset)
                offset += count
                image += 1
                column = 0
            }
        }

        /// target = Σ_t A_t source_t (+ bias) for the panels of T.columns positions in `panels`, counted over the
        /// batch image after image. A panel inside one image is read and written in place; one that spans images or
        /// ends the batch is gathered (zero-padded), every tap's, first and its tile scattered back.
        func multiply<T: PointwiseTile>(_: T.Type, panels: Range<Int>, rows block: Range<Int>, batch b: Batch,
                                        packed: UnsafePointer<Float>,
                                        bias: UnsafePointer<Float>?, gathered: UnsafeMutablePointer<Float>,
                                        tile: UnsafeMutablePointer<Float>) {
            let width = T.columns, lines = width / 16, rowStride = b.sourceRowStride
            func inPlace(_ p: Int) -> Bool { p * width % columns + width <= columns }
            func sourcePanel(_ p: Int) -> UnsafePointer<Float> {
                b.source + p * width / columns * b.sourceStride + p * width % columns
            }
            for p in panels {
                let first = p * width
                if inPlace(p) {
                    let x = sourcePanel(p)
                    let y = b.target + first / columns * b.targetStride + first % columns
                    let next = p + 1 < panels.upperBound && inPlace(p + 1) ? sourcePanel(p + 1) : nil
                    // By taps and chunks of input channels, so that the panel's rows stay in L1 while the tiles walk
                    // down the output channels and the weight streams past; each chunk's sums are added to the
                    // last's.
                    for (tap, offset) in b.tapOffsets.enumerated() {
                        let weights = packed + tap * rows * depth
                        let chunkDepth = b.streaming ? depth : Self.chunk
                        for k0 in stride(from: 0, to: depth, by: chunkDepth) {
                            let chunk = min(chunkDepth, depth - k0), xk = x + offset + k0 * rowStride
                            let starts = tap == 0 && k0 == 0
                            for m0 in stride(from: block.lowerBound, to: block.upperBound, by: T.rows) {
                                // Tile t < lines asks for line t of the next panel's rows; the others for their own.
                                let t = (m0 - block.lowerBound) / T.rows
                                let ahead = t < lines ? (next.map { $0 + offset + k0 * rowStride } ?? xk) + 16 * t : xk
                                T.multiply(packed: weights + m0 * depth + k0 * T.rows, depth: chunk, source: xk,
                                           sourceStride: rowStride, ahead: ahead,
                                           bias: starts ? bias.map { $0 + m0 } : nil, accumulates: !starts,
                                           streaming: b.streaming, into: y + m0 * columns, targetStride: columns)
                            }
                        }
                    }
                    continue
                }
                for (tap, offset) in b.tapOffsets.enumerated() {
                    let panel = gathered + tap * depth * width
                    var filled = 0
                    forEachRun(from: first, width: width, images: b.images) { image, column, count, start in
                        for k in 0..<depth {
                            (panel + k * width + start).update(from: b.source + image * b.sourceStride + offset
                                                                  + k * rowStride + column, count: count)
                        }
                        filled = start + count
                    }
                    if filled < width {
                        for k in 0..<depth { (panel + k * width + filled).update(repeating: 0, count: width - filled) }
                    }
                }
                for m0 in stride(from: block.lowerBound, to: block.upperBound, by: T.rows) {
                    for tap in 0..<taps {
                        T.multiply(packed: packed + tap * rows * depth + m0 * depth, depth: depth,
                                   source: gathered + tap * depth * width, sourceStride: width, ahead: nil,
                                   bias: tap == 0 ? bias.map { $0 + m0 } : nil, accumulates: tap > 0,
                                   streaming: false, into: tile, targetStride: width)
                    }
                    forEachRun(from: first, width: width, images: b.images) { image, column, count, offset in
                        for i in 0..<T.rows {
                            (b.target + image * b.targetStride + (m0 + i) * columns + column)
                                .update(from: tile + i * width + offset, count: count)
                        }
                    }
                }
            }
        }
    }
}

/// A register tile of the pointwise products: `rows` output rows x 3 vectors of columns.
protocol PointwiseTile {
    /// Rows of the tile.
    static var rows: Int { get }
    /// Columns of the tile: 3 vectors.
    static var columns: Int { get }
    /// target[i, 0..<columns] (+)= bias[i] + Σ_k packed[k * rows + i] * source[k, 0..<columns] for the tile's rows i
    /// (rows `targetStride` apart, source rows `sourceStride` apart), added to the target when `accumulates`,
    /// streamed to it when `streaming` (its rows then 64-byte aligned), prefetching into L2 the line at `ahead` of
    /// every source row when given (a gathered panel, already in L1, asks for nothing: in one process, calls
    /// alternating, ResNet-50's 7x7 1x1 layers ran 1.02-1.07x without those prefetches in 7 of 8 pairs).
    static func multiply(packed: UnsafePointer<Float>, depth: Int, source: UnsafePointer<Float>, sourceStride: Int,
                         ahead: UnsafePointer<Float>?, bias: UnsafePointer<Float>?, accumulates: Bool, streaming: Bool,
                         into target: UnsafeMutablePointer<Float>, targetStride: Int)
}

/// The sums of 4 rows x 3 vectors of a pointwise tile, named one by one so that LLVM keeps them in registers.
struct FourRowSums<V: SIMD> where V.Scalar == Float {
    var a0: V, a1: V, a2: V, a3: V, b0: V, b1: V, b2: V, b3: V, c0: V, c1: V, c2: V, c3: V

    /// Each row's sums start from its bias (or zero).
    @inline(__always)
    init(bias: UnsafePointer<Float>?) {
        @inline(__always) func start(_ i: Int) -> V { bias.map { V(repeating: $0[i]) } ?? V() }
        (a0, a1, a2, a3) = (start(0), start(1), start(2), start(3))
        (b0, b1, b2, b3) = (a0, a1, a2, a3)
        (c0, c1, c2, c3) = (a0, a1, a2, a3)
    }

    /// Row i += w[i] * (x0, x1, x2).
    @inline(__always)
    mutating func add(_ w: UnsafePointer<Float>, _ x0: V, _ x1: V, _ x2: V) {
        var s = V(repeating: w[0]); a0.addProduct(s, x0); b0.addProduct(s, x1); c0.addProduct(s, x2)
        s = V(repeating: w[1]); a1.addProduct(s, x0); b1.addProduct(s, x1); c1.addProduct(s, x2)
        s = V(repeating: w[2]); a2.addProduct(s, x0); b2.addProduct(s, x1); c2.addProduct(s, x2)
        s = V(repeating: w[3]); a3.addProduct(s, x0); b3.addProduct(s, x1); c3.addProduct(s, x2)
    }

    /// Stores row i at target + i * stride, adds it there when `accumulates`, or streams it there when `streaming`.
    @inline(__always)
    func put(into target: UnsafeMutablePointer<Float>, stride: Int, accumulates: Bool, streaming: Bool) {
        let n = V.scalarCount
        @inline(__always) func put(_ i: Int, _ a: V, _ b: V, _ c: V) {
            let row = target + i * stride
            if accumulates {
                store(load(row) + a, row); store(load(row + n) + b, row + n); store(load(row + 2 * n) + c, row + 2 * n)
            } else if streaming {
                StreamingStores.stream(a, row); StreamingStores.stream(b, row + n)
                StreamingStores.stream(c, row + 2 * n)
            } else {
                store(a, row); store(b, row + n); store(c, row + 2 * n)
            }
        }
        put(0, a0, b0, c0); put(1, a1, b1, c1); put(2, a2, b2, c2); put(3, a3, b3, c3)
    }
}

/// 8 rows x 3 vectors, for AVX-512's 32 registers: two sets of four rows' sums.
struct Tile8x3<V: SIMD>: PointwiseTile where V.Scalar == Float {
    static var rows: Int { 8 }
    static var columns: Int { 3 * V.scalarCount }

    static func multiply(packed: UnsafePointer<Float>, depth: Int, source: UnsafePointer<Float>, sourceStride: Int,
                         ahead: UnsafePointer<Float>?, bias: UnsafePointer<Float>?, accumulates: Bool, streaming: Bool,
                         into target: UnsafeMutablePointer<Float>, targetStride: Int) {
        var low = FourRowSums<V>(bias: bias), high = FourRowSums<V>(bias: bias.map { $0 + 4 })
        let n = V.scalarCount
        var w = packed, x = source, next = ahead
        for _ in 0..<depth {
            if let line = next { dtrain_prefetch_l2(line) }
            let x0: V = load(x), x1: V = load(x + n), x2: V = load(x + 2 * n)
            low.add(w, x0, x1, x2)
            high.add(w + 4, x0, x1, x2)
            w += 8
            x += sourceStride
            next = next.map { $0 + sourceStride }
        }
        low.put(into: target, stride: targetStride, accumulates: accumulates, streaming: streaming)
        high.put(into: target + 4 * targetStride, stride: targetStride, accumulates: accumulates, streaming: streaming)
    }
}

/// 4 rows x 3 vectors, for AVX2's 16 registers.
struct Tile4x3<V: SIMD>: PointwiseTile where V.Scalar == Float {
    static var rows: Int { 4 }
    static var columns: Int { 3 * V.scalarCount }

    static func multiply(packed: UnsafePointer<Float>, depth: Int, source: UnsafePointer<Float>, sourceStride: Int,
                         ahead: UnsafePointer<Float>?, bias: UnsafePointer<Float>?, accumulates: Bool, streaming: Bool,
                         into target: UnsafeMutablePointer<Float>, targetStride: Int) {
        var sums = FourRowSums<V>(bias: bias)
        let n = V.scalarCount
        var w = packed, x = source, next = ahead
        for _ in 0..<depth {
            if let line = next { dtrain_prefetch_l2(line) }
            let x0: V = load(x), x1: V = load(x + n), x2: V = load(x + 2 * n)
            sums.add(w, x0, x1, x2)
            w += 4
            x += sourceStride
            next = next.map { $0 + sourceStride }
        }
        sums.put(into: target, stride: targetStride, accumulates: accumulates, streaming: streaming)
    }
}
