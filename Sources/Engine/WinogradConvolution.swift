import CCacheHints

/// Winograd's minimal filtering F(4x4, 3x3) for 3x3 convolutions at stride 1: the forward pass, the input gradient
/// (the same convolution of the output gradient with the kernel flipped and its channels exchanged) and the weight
/// gradient (the forward pass's adjoint, summed over the tiles in the transformed domain).
///
/// A 4x4 block of outputs (a tile) is computed from the 6x6 inputs under it: with the inputs transformed as
/// V = Bᵀ d B and the kernel as U = G g Gᵀ, the tile is Aᵀ (Σ_c U ⊙ V) A (Lavin and Gray, 2015). The sum over input
/// channels at each of the 36 transformed points is a matrix product, (tiles x C) by (C x O): 36 multiplies per tile
/// and pair of channels where the direct convolution takes 144, plus transforms whose cost grows with C + O rather
/// than with C * O.
///
/// Vectors run across channels (16 with AVX-512, 8 otherwise), so that images of any size fill them; both channel
/// counts must be multiples of the vector width. The NCHW input is transposed into rows of channel vectors one tile
/// row at a time, and the results transposed back the same way, by transposes of square blocks in registers. Tiles
/// go in blocks of whole tile rows whose transformed inputs and products stay in L2; the blocks run on the compute
/// threads. Each block's forward and input-gradient arithmetic is independent of the others', so those results do
/// not depend on the thread count; the weight gradient's sums over blocks do (see `accumulateWeightGradient`).
enum WinogradConvolution {
    /// Transformed points of a tile, 6x6.
    static let points = 36

    /// Whether these kernels compute this pass: a 3x3 kernel at stride 1 with padding of at most 2 (the input
    /// gradient's padding is then 2 - padding), channel counts that are multiples of the vector width, and an
    /// output of at least one whole tile.
    static func applies(_ pass: Convolution.Pass, to g: WindowGeometry, sizes s: Convolution.Sizes) -> Bool {
        let lanes = CPUFeatures.hasAVX512 ? 16 : 8
        return g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideHeight == 1
            && g.strideWidth == 1 && g.paddingHeight <= 2 && g.paddingWidth <= 2
            && s.channels % lanes == 0 && s.outputChannels % lanes == 0
            && min(s.outputHeight, s.outputWidth, s.height, s.width) >= 4
    }

    /// Whether these kernels beat the direct and unfolded ones on this pass: measured per layer and pass on
    /// ResNet-20's and ResNet-50's 3x3 layers (each `Convolution.Method` timed on one thread, Sapphire Rapids), 1.2-4x
    /// faster up to 256 channels; at 512 on 7x7 images the forward pass and the input gradient 1.2-1.5x the GEMM, the
    /// weight gradient slower (60 against 71 GFLOP/s: its sums over the batch's 64 tiles, 38 MB, go through memory).
    static func isFaster(_ pass: Convolution.Pass, sizes s: Convolution.Sizes) -> Bool {
        pass != .weightGradient || max(s.channels, s.outputChannels) <= 256
    }

    // MARK: Entry points

    /// output = weight ⋆ input + bias for every image.
    static func forward(input: Tensor, weight: Tensor, bias: Tensor?, geometry g: WindowGeometry, output: Tensor,
                        sizes s: Convolution.Sizes, workspace: Workspace) {
        Problem(sizes: s, geometry: g).run(source: input.pointer, weight: weight.pointer, transposed: false,
                                           bias: bias?.pointer, output: output.pointer, workspace: workspace)
    }

    /// inputGradient = the convolution of the output gradient with the kernel flipped in both dimensions and its
    /// input and output channels exchanged, at padding 2 - padding.
    static func backwardInput(outputGradient: Tensor, weight: Tensor, geometry g: WindowGeometry,
                              inputGradient: Tensor, sizes s: Convolution.Sizes, workspace: Workspace) {
        Problem(sizes: s, geometry: g).adjoint.run(source: outputGradient.pointer, weight: weight.pointer,
                                                   transposed: true, bias: nil, output: inputGradient.pointer,
                                                   workspace: workspace)
    }

    /// weightGradient += the gradient of the loss with respect to the weight; given `inputGradient` (and its
    /// weight), also the input gradient, in the same sweep over the tiles, where `fusesBackward` holds. There the
    /// blocks leave room for the input gradient's buffers either way, so that the weight gradient's sums, and so
    /// its bits, do not depend on whether the input gradient is computed with it (a profiled step computes them
    /// apart).
    static func backwardWeight(input: Tensor, outputGradient: Tensor, geometry g: WindowGeometry,
                               weightGradient: Tensor, inputGradient: (weight: Tensor, target: Tensor)? = nil,
                               sizes s: Convolution.Sizes, workspace: Workspace) {
        let fuses = fusesBackward(g, sizes: s)
        precondition(inputGradient == nil || fuses, "Winograd: the input gradient of \(g) is computed apart")
        Problem(sizes: s, geometry: g).accumulateWeightGradient(
            input: input.pointer, outputGradient: outputGradient.pointer, weightGradient: weightGradient.pointer,
            inputGradient: inputGradient.map { .init(weight: $0.weight.pointer, target: $0.target.pointer) },
            roomForInputGradient: fuses, workspace: workspace)
    }

    /// Whether the weight gradient and the input gradient are computed in one sweep: at padding 1 the input
    /// gradient's tiles are the weight gradient's, and its staged output gradient holds what the weight gradient
    /// stages. Measured on one thread (Intel Xeon, alternating in one process): ResNet-20's layers 1.05-1.09x, 64
    /// channels at 56x56 1.01-1.03x, 128 at 28x28 0.99-1.02x, 256 at 14x14 0.90-0.94x (each block then reads both U and the weight
    /// gradient's sums, 9.4 MB each, from beyond L2).
    static func fusesBackward(_ g: WindowGeometry, sizes s: Convolution.Sizes) -> Bool {
        g.paddingHeight == 1 && g.paddingWidth == 1 && max(s.channels, s.outputChannels) <= 128
    }

    // MARK: The convolution

    /// One stride-1 3x3 convolution: `channels` planes of height x width in, `outputs` planes out, with `top` and
    /// `left` rows and columns of zero padding.
    struct Problem {
        let batch: Int, channels: Int, height: Int, width: Int
        let top: Int, left: Int
        let outputs: Int, outputHeight: Int, outputWidth: Int

        var tilesHigh: Int { (outputHeight + 3) / 4 }
        var tilesWide: Int { (outputWidth + 3) / 4 }
        /// Input positions of a tile row: 4 per tile plus the kernel's reach.
        var stagedWidth: Int { 4 * tilesWide + 2 }

        /// Bytes that the transformed inputs and products of one block may take, to stay in L2.
        static let blockBytes = 1 << 20

        /// The convolution on this CPU's vectors (each width a specialised copy of the kernels).
        func run(source: UnsafePointer<Float>, weight: UnsafePointer<Float>, transposed: Bool,
                 bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, workspace: Workspace) {
            if CPUFeatures.hasAVX512 {
                run(SIMD16<Float>.self, source: source, weight: weight, transposed: transposed, bias: bias,
                    output: output, workspace: workspace)
            } else {
                run(SIMD8<Float>.self, source: source, weight: weight, transposed: transposed, bias: bias,
                    output: output, workspace: workspace)
            }
        }

        func run<V: WinogradVector>(_: V.Type, source: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                    transposed: Bool, bias: UnsafePointer<Float>?,
                                    output: UnsafeMutablePointer<Float>, workspace: Workspace) {
            let (layout, rowsPerBlock) = blockLayout(V.self)
            let tileRows = batch * tilesHigh
            let transformedCount = points * channels * outputs
            let scratch = workspace.buffer(count: transformedCount + ComputeThreads.count * layout.count)
            transformWeights(V.self, weight, transposed: transposed, into: scratch)
            let blocks = (tileRows + rowsPerBlock - 1) / rowsPerBlock
            let streaming = streams(into: output)
            ComputeThreads.forEach(blocks) { block, thread in
                let first = block * rowsPerBlock
                convolveBlock(V.self, tileRows: first..<min(first + rowsPerBlock, tileRows), source: source,
                              transformed: scratch, bias: bias, output: output, streaming: streaming, layout: layout,
                              scratch: scratch + transformedCount + thread * layout.count)
                if streaming { StreamingStores.fence() }
            }
        }

        /// Whether the output is streamed (`StreamingStores`): when it is large (ResNet-50's 56x56 layers) and every
        /// tile row's planes are whole, aligned vectors: whole tiles, planes of whole cache lines.
        func streams(into output: UnsafeMutablePointer<Float>) -> Bool {
            StreamingStores.pay(count: batch * outputs * outputHeight * outputWidth)
                && outputHeight % 4 == 0 && outputWidth % 4 == 0 && outputHeight * outputWidth % 16 == 0
                && Int(bitPattern: output) % 64 == 0
        }

        /// Blocks of whole tile rows: enough tiles for the register tiles, few enough for L2 (or, when U is larger
        /// than L2 and read from memory by every block, enough that a block does 64 multiplies per U value), and at
        /// least one block per compute thread. Within half of that size, the rows whose tiles fill the register
        /// tiles best: 4 rows of 7 tiles would compute 48 tiles for 28. `extraPerTile` more vectors per tile and
        /// point share the budget, unless the smaller blocks that leaves fill the register tiles worse (ResNet-50's
        /// 56x56 layers: 2 rows of 14 tiles compute 48 for 28, 4 rows 72 for 56).
        func blockLayout<V: WinogradVector>(_: V.Type, extraPerTile: Int = 0)
            -> (layout: BlockLayout, rowsPerBlock: Int) {
            let group = V.tilesPerProduct, tileRows = batch * tilesHigh
            let bytes = max(Problem.blockBytes, points * channels * outputs * MemoryLayout<Float>.stride / 4)
            let perThread = (tileRows + ComputeThreads.count - 1) / ComputeThreads.count
            func filled(_ rows: Int) -> Double { Double(rows * tilesWide) / Double(roundUp(rows * tilesWide, group)) }
            func rows(extra: Int) -> Int {
                let budget = bytes / (points * (channels + outputs + extra) * MemoryLayout<Float>.stride)
                let most = max(1, min(perThread, max(group, budget) / tilesWide))
                return stride(from: most, through: max(1, most / 2), by: -1).max { filled($0) < filled($1) }!
            }
            let smaller = rows(extra: extraPerTile), larger = rows(extra: 0)
            let rowsPerBlock = filled(smaller) >= filled(larger) ? smaller : larger
            let layout = BlockLayout(lanes: V.scalarCount, tiles: roundUp(rowsPerBlock * tilesWide, group),
                                     channels: channels, outputs: outputs, stagedWidth: stagedWidth,
                                     outputPositions: 4 * outputWidth)
            return (layout, rowsPerBlock)
        }

        /// U = G g Gᵀ for every pair of channels, laid out [point][output block][input channel][lanes]: the
        /// products read one block's weights for all input channels in order, a stream the prefetchers follow (512
        /// channels' U is 38 MB, read from memory). Transposed, g is the kernel of the pair (output, input)
        /// exchanged and flipped.
        func transformWeights<V: WinogradVector>(_: V.Type, _ weight: UnsafePointer<Float>, transposed: Bool,
                                                 into u: UnsafeMutablePointer<Float>) {
            let lanes = V.scalarCount
            // A block of output channels at a time, its input channels in order: the lanes' kernels are then read
            // from `lanes` rows as streams, and U is written as 36 streams. Input channels outermost read the
            // kernels of all outputs at once, rows 9 * channels floats apart, which fall into a few cache sets
            // (512 channels: 2 of L1's 64) and missed L1 on nearly every load.
            ComputeThreads.forEach(outputs / lanes) { ob, _ in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: 27 * lanes) { buffer in
                    // The lanes' kernels, tap by tap, copied element by element (a vector's lanes set one by one
                    // cost 6-7x more instructions), and the columns of G g.
                    let taps = buffer.baseAddress!, rows = taps + 9 * lanes, o0 = ob * lanes
                    @inline(__always) func tap(_ k: Int) -> V { load(taps + k * lanes) }
                    for c in 0..<channels {
                        if transposed {
                            let kernels = weight + (c * outputs + o0) * 9
                            for l in 0..<lanes {
                                for k in 0..<9 { taps[k * lanes + l] = kernels[l * 9 + 8 - k] }
                            }
                        } else {
                            for l in 0..<lanes {
                                let kernel = weight + ((o0 + l) * channels + c) * 9
                                for k in 0..<9 { taps[k * lanes + l] = kernel[k] }
                            }
                        }
                        // Columns of g through G (rows[k * 3 + j] = (G g)[k][j]), then rows.
                        for j in 0..<3 {
                            store(Transform.kernelPoints(tap(j), tap(3 + j), tap(6 + j)), rows + j * lanes,
                                  stride: 3 * lanes)
                        }
                        for k in 0..<6 {
                            let row = rows + k * 3 * lanes
                            let t = Transform.kernelPoints(load(row) as V, load(row + lanes) as V,
                                                           load(row + 2 * lanes) as V)
                            store(t, u + k * 6 * channels * outputs + (o0 / lanes * channels + c) * lanes,
                                  stride: channels * outputs)
                        }
                    }
                }
            }
        }

        /// The tiles of `tileRows` (numbered image by image, top to bottom): their inputs transformed, the 36
        /// products, and the outputs transformed back into NCHW (streamed when `streaming`).
        func convolveBlock<V: WinogradVector>(_: V.Type, tileRows: Range<Int>, source: UnsafePointer<Float>,
                                              transformed: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                                              output: UnsafeMutablePointer<Float>, streaming: Bool,
                                              layout: BlockLayout, scratch: UnsafeMutablePointer<Float>) {
            let v = scratch + layout.inputsOffset, m = scratch + layout.productsOffset
            let staged = scratch + layout.stagedOffset, temporary = scratch + layout.temporaryOffset
            transformInputs(V.self, tileRows: tileRows, source: source, tiles: layout.tiles, into: v, staged: staged,
                            temporary: temporary)
            multiply(V.self, inputs: v, transformed: transformed, products: m, tiles: layout.tiles)
            transformOutputs(V.self, tileRows: tileRows, products: m, tiles: layout.tiles, bias: bias, output: output,
                             streaming: streaming, staged: staged, temporary: temporary)
        }

        /// Y = Aᵀ M A + bias for the tiles of `tileRows`, from the block's products into NCHW (streamed when
        /// `streaming`).
        func transformOutputs<V: WinogradVector>(_: V.Type, tileRows: Range<Int>, products m: UnsafePointer<Float>,
                                                 tiles: Int, bias: UnsafePointer<Float>?,
                                                 output: UnsafeMutablePointer<Float>, streaming: Bool,
                                                 staged: UnsafeMutablePointer<Float>,
                                                 temporary: UnsafeMutablePointer<Float>) {
            let lanes = V.scalarCount, outputBlocks = outputs / lanes
            let pointStride = WinogradConvolution.pointStride(channels: outputs, tiles: tiles, lanes: lanes)
            for (k, row) in tileRows.enumerated() {
                let n = row / tilesHigh, ty = row % tilesHigh
                let rows = min(4, outputHeight - 4 * ty)
                for ob in 0..<outputBlocks {
                    let b: V = bias.map { load($0 + ob * lanes) } ?? V()
                    for tx in 0..<tilesWide {
                        let t = k * tilesWide + tx
                        Transform.output(V.self, m + (ob * tiles + t) * lanes,
                                         pointStride: pointStride, bias: b,
                                         temporary: temporary, into: staged, column: 4 * tx, rows: rows,
                                         width: outputWidth)
                    }
                    unstageOutput(V.self, staged: staged, positions: rows * outputWidth,
                                  into: output + ((n * outputs + ob * lanes) * outputHeight + 4 * ty) * outputWidth,
                                  streaming: streaming)
                }
            }
        }

        /// The transformed inputs of the tiles of `tileRows` into `v`, [point][channel block][tile][lane] for
        /// `tiles` tiles, zeros for the tiles past them. With `gradients`, the source is an output gradient padded by
        /// 1 (the input gradient's problem of a convolution at padding 1), and its A dY Aᵀ for the weight gradient's
        /// tiles, which are the same tiles, go there as `transformGradients` lays them out: from the rows and
        /// columns already staged, inside the padding.
        func transformInputs<V: WinogradVector>(_: V.Type, tileRows: Range<Int>, source: UnsafePointer<Float>,
                                                tiles: Int, into v: UnsafeMutablePointer<Float>,
                                                gradients: UnsafeMutablePointer<Float>? = nil,
                                                staged: UnsafeMutablePointer<Float>,
                                                temporary: UnsafeMutablePointer<Float>) {
            precondition(gradients == nil || (top == 1 && left == 1), "Winograd: gradients need a padding of 1")
            let lanes = V.scalarCount, channelBlocks = channels / lanes
            let rowCount = stagedWidth * lanes
            let pointStride = WinogradConvolution.pointStride(channels: channels, tiles: tiles, lanes: lanes)
            // The rows that tile row k of channel block cb stages: its 6 input rows, of which the previous tile row
            // of the same image staged the first 2.
            func newRows(_ cb: Int, _ k: Int) -> Rows {
                let row = tileRows.lowerBound + k, n = row / tilesHigh, ty = row % tilesHigh
                let planes = source + (n * channels + cb * lanes) * height * width
                return k > 0 && ty > 0 ? Rows(planes: planes, first: 4 * ty - top + 2, count: 4)
                    : Rows(planes: planes, first: 4 * ty - top, count: 6)
            }
            for cb in 0..<channelBlocks {
                for k in 0..<tileRows.count {
                    let rows = newRows(cb, k)
                    let next = k + 1 < tileRows.count ? newRows(cb, k + 1)
                        : cb + 1 < channelBlocks ? newRows(cb + 1, 0) : nil
                    // A tile row's 6 input rows overlap the previous one's by 2: those are moved, not staged again.
                    if rows.count == 4 { staged.update(from: staged + 4 * rowCount, count: 2 * rowCount) }
                    stage(V.self, rows, height: height, width: width, left: left, stagedWidth: stagedWidth,
                          into: staged + (6 - rows.count) * rowCount, prefetching: next)
                    for tx in 0..<tilesWide {
                        let tile = (cb * tiles + k * tilesWide + tx) * lanes
                        Transform.input(V.self, staged + 4 * tx * lanes, rowStride: rowCount, temporary: temporary,
                                        into: v + tile, pointStride: pointStride)
                        if let gradients {
                            Transform.gradient(V.self, staged + rowCount + (4 * tx + 1) * lanes, rowStride: rowCount,
                                               temporary: temporary, into: gradients + tile,
                                               pointStride: pointStride)
                        }
                    }
                }
            }
            let used = tileRows.count * tilesWide
            zeroUnusedTiles(v, used: used, tiles: tiles, lanes: lanes, blocks: channelBlocks, pointStride: pointStride)
            if let gradients {
                zeroUnusedTiles(gradients, used: used, tiles: tiles, lanes: lanes, blocks: channelBlocks,
                                pointStride: pointStride)
            }
        }

        /// Zeros the vectors of tiles [used, tiles) in each of the `blocks` runs of `tiles` vectors of `lanes` floats
        /// of every point, `pointStride` floats apart.
        func zeroUnusedTiles(_ p: UnsafeMutablePointer<Float>, used: Int, tiles: Int, lanes: Int, blocks: Int,
                             pointStride: Int) {
            guard used < tiles else { return }
            for point in 0..<points {
                for block in 0..<blocks {
                    Elementwise.zero(p + point * pointStride + (block * tiles + used) * lanes,
                                     count: (tiles - used) * lanes)
                }
            }
        }

        // MARK: The weight gradient

        /// weightGradient += Σ over the tiles of Gᵀ [(A dY Aᵀ) ⊙ (Bᵀ d B)] G, the adjoint of the forward pass: the
        /// sum over tiles is taken in the transformed domain, a product (C x tiles) by (tiles x O) at each point,
        /// and transformed back once. Blocks are dealt to the tasks in turn (task t takes blocks t, t + tasks, ...),
        /// each summing into a buffer of its own, added in task order: the result depends on the number of threads
        /// but not on their timing.
        ///
        /// With `inputGradient` (padding 1, so that the input gradient's tiles are the same tiles), each block's input
        /// gradient is computed in the same sweep: the output gradient's rows are staged once for both passes, and
        /// read from memory once. `roomForInputGradient` (implied by `inputGradient`) sizes the blocks for that.
        func accumulateWeightGradient(input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
                                      weightGradient: UnsafeMutablePointer<Float>, inputGradient: InputGradient?,
                                      roomForInputGradient: Bool, workspace: Workspace) {
            if CPUFeatures.hasAVX512 {
                accumulateWeightGradient(SIMD16<Float>.self, input: input, outputGradient: outputGradient,
                                         weightGradient: weightGradient, inputGradient: inputGradient,
                                         roomForInputGradient: roomForInputGradient, workspace: workspace)
            } else {
                accumulateWeightGradient(SIMD8<Float>.self, input: input, outputGradient: outputGradient,
                                         weightGradient: weightGradient, inputGradient: inputGradient,
                                         roomForInputGradient: roomForInputGradient, workspace: workspace)
            }
        }

        /// The weight that the input gradient is computed with and where it goes.
        struct InputGradient {
            let weight: UnsafePointer<Float>, target: UnsafeMutablePointer<Float>
        }

        /// The input gradient's problem: the output gradient convolved at padding 2 - padding into the input's shape.
        var adjoint: Problem {
            Problem(batch: batch, channels: outputs, height: outputHeight, width: outputWidth, top: 2 - top,
                    left: 2 - left, outputs: channels, outputHeight: height, outputWidth: width)
        }

        func accumulateWeightGradient<V: WinogradVector>(_: V.Type, input: UnsafePointer<Float>,
                                                         outputGradient: UnsafePointer<Float>,
                                                         weightGradient: UnsafeMutablePointer<Float>,
                                                         inputGradient: InputGradient?, roomForInputGradient: Bool,
                                                         workspace: Workspace) {
            let lanes = V.scalarCount, channelBlocks = channels / lanes, outputBlocks = outputs / lanes
            // Fused, a block holds the output gradient's transformed inputs and its A dY Aᵀ at once.
            let fused = inputGradient != nil || roomForInputGradient
            let (layout, rowsPerBlock) = blockLayout(V.self, extraPerTile: fused ? outputs : 0)
            let adjoint = adjoint
            let adjointLayout = BlockLayout(lanes: lanes, tiles: layout.tiles, channels: outputs, outputs: channels,
                                            stagedWidth: stagedWidth, outputPositions: 4 * width)
            let perThread = inputGradient == nil ? layout.count
                : adjointLayout.count + points * layout.productPointStride
            let tileRows = batch * tilesHigh, blocks = (tileRows + rowsPerBlock - 1) / rowsPerBlock
            let tasks = min(blocks, ComputeThreads.count), sumsCount = points * channels * outputs
            let transformedCount = inputGradient == nil ? 0 : sumsCount
            let scratch = workspace.buffer(count: transformedCount + tasks * sumsCount
                                           + ComputeThreads.count * perThread)
            let transformed = scratch, allSums = scratch + transformedCount
            if let inputGradient {
                adjoint.transformWeights(V.self, inputGradient.weight, transposed: true, into: transformed)
            }
            let streaming = inputGradient.map { adjoint.streams(into: $0.target) } ?? false
            ComputeThreads.forEach(tasks) { task, thread in
                let sums = allSums + task * sumsCount
                let blockScratch = allSums + tasks * sumsCount + thread * perThread
                Elementwise.zero(sums, count: sumsCount)
                for block in stride(from: task, to: blocks, by: tasks) {
                    let first = block * rowsPerBlock
                    let rows = first..<min(first + rowsPerBlock, tileRows)
                    let v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>
                    if let inputGradient {
                        let staged = blockScratch + adjointLayout.stagedOffset
                        let temporary = blockScratch + adjointLayout.temporaryOffset
                        let products = blockScratch + adjointLayout.productsOffset
                        m = blockScratch + adjointLayout.count
                        adjoint.transformInputs(V.self, tileRows: rows, source: outputGradient, tiles: layout.tiles,
                                                into: blockScratch + adjointLayout.inputsOffset, gradients: m,
                                                staged: staged, temporary: temporary)
                        adjoint.multiply(V.self, inputs: blockScratch + adjointLayout.inputsOffset,
                                         transformed: transformed, products: products, tiles: layout.tiles)
                        adjoint.transformOutputs(V.self, tileRows: rows, products: products, tiles: layout.tiles,
                                                 bias: nil, output: inputGradient.target, streaming: streaming,
                                                 staged: staged, temporary: temporary)
                        // The products are spent: the input's transforms take their place.
                        v = products
                        transformInputs(V.self, tileRows: rows, source: input, tiles: layout.tiles, into: v,
                                        staged: staged, temporary: temporary)
                    } else {
                        v = blockScratch + layout.inputsOffset
                        m = blockScratch + layout.productsOffset
                        transformInputs(V.self, tileRows: rows, source: input, tiles: layout.tiles, into: v,
                                        staged: blockScratch + layout.stagedOffset,
                                        temporary: blockScratch + layout.temporaryOffset)
                        transformGradients(V.self, tileRows: rows, outputGradient: outputGradient, layout: layout,
                                           scratch: blockScratch)
                    }
                    for point in 0..<points {
                        for cb in 0..<channelBlocks {
                            for ob in 0..<outputBlocks {
                                V.accumulateProducts(
                                    inputs: v + point * layout.inputPointStride + cb * layout.tiles * lanes,
                                    gradients: m + point * layout.productPointStride + ob * layout.tiles * lanes,
                                    tiles: layout.tiles,
                                    into: sums + (point * channels + cb * lanes) * outputs + ob * lanes,
                                    stride: outputs)
                            }
                        }
                    }
                }
                if streaming { StreamingStores.fence() }
            }
            for task in 1..<max(tasks, 1) {
                Elementwise.addInPlace(allSums, allSums + task * sumsCount, count: sumsCount)
            }
            let sums = UnsafePointer(allSums)
            // By blocks of output channels, input channels in order, for the reason `transformWeights` gives.
            ComputeThreads.forEach(outputBlocks) { ob, _ in
                for c in 0..<channels {
                    Transform.kernelGradient(V.self, sums + c * outputs + ob * lanes, pointStride: channels * outputs,
                                             into: weightGradient + (ob * lanes * channels + c) * 9,
                                             laneStride: channels * 9)
                }
            }
        }

        /// A dY Aᵀ for the tiles of `tileRows` into the block's products, [point][output block][tile][lane], zeros
        /// for the tiles past them; the output gradient is zero past its edges.
        func transformGradients<V: WinogradVector>(_: V.Type, tileRows: Range<Int>,
                                                   outputGradient: UnsafePointer<Float>, layout: BlockLayout,
                                                   scratch: UnsafeMutablePointer<Float>) {
            let lanes = V.scalarCount, outputBlocks = outputs / lanes
            let m = scratch + layout.productsOffset
            let staged = scratch + layout.stagedOffset, temporary = scratch + layout.temporaryOffset
            // The 4 rows of output-gradient tile row k in output block ob.
            func rows(_ k: Int, _ ob: Int) -> Rows {
                let row = tileRows.lowerBound + k, n = row / tilesHigh, ty = row % tilesHigh
                return Rows(planes: outputGradient + (n * outputs + ob * lanes) * outputHeight * outputWidth,
                            first: 4 * ty, count: 4)
            }
            for k in 0..<tileRows.count {
                for ob in 0..<outputBlocks {
                    let next = ob + 1 < outputBlocks ? rows(k, ob + 1) : k + 1 < tileRows.count ? rows(k + 1, 0) : nil
                    stage(V.self, rows(k, ob), height: outputHeight, width: outputWidth, left: 0,
                          stagedWidth: 4 * tilesWide, into: staged, prefetching: next)
                    for tx in 0..<tilesWide {
                        Transform.gradient(V.self, staged + 4 * tx * lanes, rowStride: 4 * tilesWide * lanes,
                                           temporary: temporary,
                                           into: m + (ob * layout.tiles + k * tilesWide + tx) * lanes,
                                           pointStride: layout.productPointStride)
                    }
                }
            }
            zeroUnusedTiles(m, used: tileRows.count * tilesWide, tiles: layout.tiles, lanes: lanes,
                            blocks: outputBlocks, pointStride: layout.productPointStride)
        }

        /// The rows of `source` (`lanes` planes of height x width) as `stagedWidth` vectors per row, one per position
        /// across the planes: the row's values from position `left` on, zeros before and after them and in the rows
        /// past the planes' edges. It asks for the rows of `next`, the caller's next staging (the planes' rows lie a
        /// plane apart, 16 streams that the hardware prefetchers do not follow), into L2 only: the planes of a 32x32
        /// image lie 4 KB apart, so the 16 planes' lines of a row share one L1 set, more lines than its ways, and
        /// prefetched into L1 they evicted each other before the loads came. Measured against no prefetch on Zen 5
        /// (ResNet-20 steps 1.04-1.07x on one thread), then L2 against L1 on an Intel Xeon (ResNet-20 1.045x, two runs
        /// of 8 and 16 alternating pairs; ResNet-50 0.99x), then the next staging's rows, which include the first
        /// rows of the next image, against the next 4 rows of the same planes (ResNet-20 1.01x and 1.03x, ResNet-50
        /// 1.04x, medians of 6-16 alternating pairs).
        func stage<V: WinogradVector>(_: V.Type, _ source: Rows, height: Int, width: Int, left: Int,
                                      stagedWidth: Int, into staged: UnsafeMutablePointer<Float>,
                                      prefetching next: Rows?) {
            let lanes = V.scalarCount, rowCount = stagedWidth * lanes, visible = min(width, stagedWidth - left)
            let (planes, firstRow, rows) = (source.planes, source.first, source.count)
            if let next {
                for y in stride(from: max(0, next.first), to: min(height, next.first + next.count), by: 1) {
                    for l in 0..<lanes {
                        let row = next.planes + (l * height + y) * width
                        for x in stride(from: 0, to: width, by: 16) { dtrain_prefetch_l2(row + x) }
                    }
                }
            }
            withUnsafeTemporaryAllocation(of: V.self, capacity: lanes) { buffer in
                let square = buffer.baseAddress!
                for r in 0..<rows {
                    let y = firstRow + r, target = staged + r * rowCount
                    guard y >= 0 && y < height else {
                        Elementwise.zero(target, count: rowCount)
                        continue
                    }
                    Elementwise.zero(target, count: left * lanes)
                    Elementwise.zero(target + (left + visible) * lanes, count: (stagedWidth - left - visible) * lanes)
                    for x0 in stride(from: 0, to: visible, by: lanes) {
                        let count = min(lanes, visible - x0)
                        for l in 0..<lanes {
                            square[l] = loadPrefix(planes + (l * height + y) * width + x0, count: count)
                        }
                        V.transpose(square)
                        for p in 0..<count {
                            store(square[p], target + (left + x0 + p) * lanes)
                        }
                    }
                }
            }
        }

        /// `positions` staged vectors (one per output position, across a block of output channels) transposed into
        /// the channels' planes, which start at `planes` and lie outputHeight * outputWidth apart.
        func unstageOutput<V: WinogradVector>(_: V.Type, staged: UnsafePointer<Float>, positions: Int,
                                              into planes: UnsafeMutablePointer<Float>, streaming: Bool) {
            let lanes = V.scalarCount, planeStride = outputHeight * outputWidth
            withUnsafeTemporaryAllocation(of: V.self, capacity: lanes) { buffer in
                let square = buffer.baseAddress!
                for p0 in stride(from: 0, to: positions, by: lanes) {
                    let count = min(lanes, positions - p0)
                    for p in 0..<lanes { square[p] = p < count ? load(staged + (p0 + p) * lanes) : V() }
                    V.transpose(square)
                    for l in 0..<lanes {
                        if streaming {
                            StreamingStores.stream(square[l], planes + l * planeStride + p0)
                        } else {
                            storePrefix(square[l], planes + l * planeStride + p0, count: count)
                        }
                    }
                }
            }
        }

        /// products[point][output block][tile] = Σ_c inputs[point][c][tile] * transformed[point][output block][c],
        /// by register tiles of `V.tilesPerProduct` tiles x one vector of output channels.
        func multiply<V: WinogradVector>(_: V.Type, inputs: UnsafePointer<Float>, transformed: UnsafePointer<Float>,
                                         products: UnsafeMutablePointer<Float>, tiles: Int) {
            let lanes = V.scalarCount, channelBlocks = channels / lanes, outputBlocks = outputs / lanes
            let inputStride = WinogradConvolution.pointStride(channels: channels, tiles: tiles, lanes: lanes)
            let productStride = WinogradConvolution.pointStride(channels: outputs, tiles: tiles, lanes: lanes)
            for point in 0..<points {
                let u = transformed + point * channels * outputs
                let v = inputs + point * inputStride
                for ob in 0..<outputBlocks {
                    let target = products + point * productStride + ob * tiles * lanes
                    for t0 in stride(from: 0, to: tiles, by: V.tilesPerProduct) {
                        V.multiplyTiles(inputs: v + t0 * lanes, channelBlocks: channelBlocks,
                                        blockStride: tiles * lanes, weights: u + ob * channels * lanes,
                                        weightStride: lanes,
                                        into: target + t0 * lanes)
                    }
                }
            }
        }
    }

    /// Rows [first, first + count) of a block of `lanes` planes that start at `planes`; rows past the planes' edges
    /// are zeros.
    struct Rows {
        let planes: UnsafePointer<Float>, first: Int, count: Int
    }

    /// Floats from one transformed point of a block to the next, for `channels` channels of `tiles` tiles: one
    /// vector more than the point's tiles. Without it a tile's 36 points lay a multiple of 4 KB apart in ResNet-20's
    /// blocks (2 or 4 vectors of channels times 96 or 48 tiles), so its transforms' 36 stores and loads shared one
    /// L1 set; padded, ResNet-20 steps 1.04x and 1.02x and ResNet-50 1.02x (medians of 5-16 alternating pairs, Xeon).
    static func pointStride(channels: Int, tiles: Int, lanes: Int) -> Int { channels * tiles + lanes }

    /// Where a block's buffers lie in its thread's scratch, in floats.
    struct BlockLayout {
        let lanes: Int, tiles: Int, channels: Int, outputs: Int, stagedWidth: Int, outputPositions: Int
        var inputPointStride: Int { pointStride(channels: channels, tiles: tiles, lanes: lanes) }
        var productPointStride: Int { pointStride(channels: outputs, tiles: tiles, lanes: lanes) }
        var inputsOffset: Int { 0 }
        var productsOffset: Int { points * inputPointStride }
        var stagedOffset: Int { productsOffset + points * productPointStride }
        /// Staged input rows (6 rows) or output rows (up to 4 rows of outputs), one vector per position.
        var stagedCount: Int { max(6 * stagedWidth, roundUp(outputPositions, lanes)) * lanes }
        var temporaryOffset: Int { stagedOffset + stagedCount }
        /// A tile's transform halfway, 36 vectors.
        var temporaryCount: Int { points * lanes }
        var count: Int { temporaryOffset + temporaryCount }
    }

    // MARK: Transforms

    /// The one-dimensional transforms, applied to rows and then to columns.
    enum Transform {
        /// Bᵀ d for 6 inputs.
        @inline(__always)
        static func inputPoints<V: SIMD>(_ d0: V, _ d1: V, _ d2: V, _ d3: V, _ d4: V, _ d5: V) -> (V, V, V, V, V, V)
        where V.Scalar == Float {
            let four: Float = 4, five: Float = 5
            let a = d4 - d2, b = d3 - d1
            return (four * d0 - five * d2 + d4,
                    d3 + d4 - four * (d1 + d2),
                    d4 - d3 + four * (d1 - d2),
                    a + 2 * b,
                    a - 2 * b,
                    four * d1 - five * d3 + d5)
        }

        /// Aᵀ m for 6 products.
        @inline(__always)
        static func outputPoints<V: SIMD>(_ m0: V, _ m1: V, _ m2: V, _ m3: V, _ m4: V, _ m5: V) -> (V, V, V, V)
        where V.Scalar == Float {
            let sum12 = m1 + m2, difference12 = m1 - m2, sum34 = m3 + m4, difference34 = m3 - m4
            return (m0 + sum12 + sum34, difference12 + 2 * difference34, sum12 + 4 * sum34,
                    difference12 + 8 * difference34 + m5)
        }

        /// G g for 3 kernel taps.
        @inline(__always)
        static func kernelPoints<V: SIMD>(_ g0: V, _ g1: V, _ g2: V) -> (V, V, V, V, V, V) where V.Scalar == Float {
            let sixth: Float = 1 / 6, twelfth: Float = 1 / 12, quarter: Float = 1 / 4, twentyFourth: Float = 1 / 24
            let outer = g0 + g2
            return (quarter * g0, -sixth * (outer + g1), -sixth * (outer - g1),
                    twentyFourth * g0 + twelfth * g1 + sixth * g2, twentyFourth * g0 - twelfth * g1 + sixth * g2, g2)
        }

        /// A y for 4 values of the output gradient.
        @inline(__always)
        static func gradientPoints<V: SIMD>(_ y0: V, _ y1: V, _ y2: V, _ y3: V) -> (V, V, V, V, V, V)
        where V.Scalar == Float {
            let even = y0 + y2, odd = y1 + y3, evenFour = y0 + 4 * y2, oddEight = 2 * y1 + 8 * y3
            return (y0, even + odd, even - odd, evenFour + oddEight, evenFour - oddEight, y3)
        }

        /// Gᵀ u for 6 transformed kernel gradients.
        @inline(__always)
        static func kernelGradientPoints<V: SIMD>(_ u0: V, _ u1: V, _ u2: V, _ u3: V, _ u4: V, _ u5: V) -> (V, V, V)
        where V.Scalar == Float {
            let sixth: Float = 1 / 6, twelfth: Float = 1 / 12, quarter: Float = 1 / 4, twentyFourth: Float = 1 / 24
            let sum12 = u1 + u2, sum34 = u3 + u4
            return (quarter * u0 - sixth * sum12 + twentyFourth * sum34,
                    sixth * (u2 - u1) + twelfth * (u3 - u4),
                    sixth * (sum34 - sum12) + u5)
        }

        /// V = Bᵀ d B for the tile whose 6x6 staged inputs start at `d` (positions one vector apart, rows
        /// `rowStride` apart), stored at `target` + point * `pointStride`.
        @inline(__always)
        static func input<V: WinogradVector>(_: V.Type, _ d: UnsafePointer<Float>, rowStride: Int,
                                             temporary: UnsafeMutablePointer<Float>,
                                             into target: UnsafeMutablePointer<Float>, pointStride: Int) {
            let lanes = V.scalarCount
            @inline(__always) func at(_ r: Int, _ j: Int) -> V { load(d + r * rowStride + j * lanes) }
            // Rows: w[r][l] = Σ_j d[r][j] B[j][l], kept in `temporary`.
            for r in 0..<6 {
                store(inputPoints(at(r, 0), at(r, 1), at(r, 2), at(r, 3), at(r, 4), at(r, 5)),
                      temporary + r * 6 * lanes, stride: lanes)
            }
            // Columns: V[k][l] = Σ_r Bᵀ[k][r] w[r][l].
            for l in 0..<6 {
                @inline(__always) func w(_ r: Int) -> V { load(temporary + (r * 6 + l) * lanes) }
                store(inputPoints(w(0), w(1), w(2), w(3), w(4), w(5)), target + l * pointStride,
                      stride: 6 * pointStride)
            }
        }

        /// A dY Aᵀ for the tile whose 4x4 staged output gradients start at `d` (positions one vector apart, rows
        /// `rowStride` apart), stored at `target` + point * `pointStride`.
        @inline(__always)
        static func gradient<V: WinogradVector>(_: V.Type, _ d: UnsafePointer<Float>, rowStride: Int,
                                                temporary: UnsafeMutablePointer<Float>,
                                                into target: UnsafeMutablePointer<Float>, pointStride: Int) {
            let lanes = V.scalarCount
            @inline(__always) func at(_ i: Int, _ j: Int) -> V { load(d + i * rowStride + j * lanes) }
            // Rows: w[i][l] = Σ_j dY[i][j] A[l][j].
            for i in 0..<4 {
                store(gradientPoints(at(i, 0), at(i, 1), at(i, 2), at(i, 3)), temporary + i * 6 * lanes,
                      stride: lanes)
            }
            // Columns: point (k, l) = Σ_i A[k][i] w[i][l].
            for l in 0..<6 {
                @inline(__always) func w(_ i: Int) -> V { load(temporary + (i * 6 + l) * lanes) }
                store(gradientPoints(w(0), w(1), w(2), w(3)), target + l * pointStride, stride: 6 * pointStride)
            }
        }

        /// Gᵀ dU G added to 3x3 kernels: the 36 transformed sums at `u` + point * `pointStride` (a vector of output
        /// channels each) back to the taps, added to the kernels that start at `target`, one output channel (lane)
        /// `laneStride` apart.
        static func kernelGradient<V: WinogradVector>(_: V.Type, _ u: UnsafePointer<Float>, pointStride: Int,
                                                      into target: UnsafeMutablePointer<Float>, laneStride: Int) {
            @inline(__always) func at(_ point: Int) -> V { load(u + point * pointStride) }
            let lanes = V.scalarCount
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 27 * lanes) { buffer in
                let rows = buffer.baseAddress!, taps = rows + 18 * lanes
                @inline(__always) func row(_ i: Int) -> V { load(rows + i * lanes) }
                // Rows: r[k][j] = Σ_l dU[k][l] G[l][j].
                for k in 0..<6 {
                    let r = kernelGradientPoints(at(k * 6), at(k * 6 + 1), at(k * 6 + 2), at(k * 6 + 3),
                                                 at(k * 6 + 4), at(k * 6 + 5))
                    store(r.0, rows + k * 3 * lanes); store(r.1, rows + (k * 3 + 1) * lanes)
                    store(r.2, rows + (k * 3 + 2) * lanes)
                }
                // Columns: tap (i, j) = Σ_k Gᵀ[i][k] r[k][j], then added lane by lane from memory (a vector's lanes
                // read one by one cost several times the instructions).
                for j in 0..<3 {
                    let c = kernelGradientPoints(row(j), row(3 + j), row(6 + j), row(9 + j), row(12 + j), row(15 + j))
                    store(c.0, taps + j * lanes); store(c.1, taps + (3 + j) * lanes); store(c.2, taps + (6 + j) * lanes)
                }
                for l in 0..<lanes {
                    for t in 0..<9 { target[l * laneStride + t] += taps[t * lanes + l] }
                }
            }
        }

        /// Y = Aᵀ M A + bias for the tile whose products lie at `m` + point * `pointStride`, stored into the staged
        /// output rows (`width` vectors each) from column `column`, its first `rows` rows, up to the row's end.
        @inline(__always)
        static func output<V: WinogradVector>(_: V.Type, _ m: UnsafePointer<Float>, pointStride: Int, bias: V,
                                              temporary: UnsafeMutablePointer<Float>,
                                              into staged: UnsafeMutablePointer<Float>, column: Int, rows: Int,
                                              width: Int) {
            let lanes = V.scalarCount
            @inline(__always) func at(_ point: Int) -> V { load(m + point * pointStride) }
            // Rows: z[k][j] = Σ_l M[k][l] A[l][j].
            for k in 0..<6 {
                let z = outputPoints(at(k * 6), at(k * 6 + 1), at(k * 6 + 2), at(k * 6 + 3), at(k * 6 + 4), at(k * 6 + 5))
                let row = temporary + k * 4 * lanes
                store(z.0, row); store(z.1, row + lanes); store(z.2, row + 2 * lanes); store(z.3, row + 3 * lanes)
            }
            let columns = min(4, width - column)
            for j in 0..<columns {
                @inline(__always) func z(_ k: Int) -> V { load(temporary + (k * 4 + j) * lanes) }
                let y = outputPoints(z(0), z(1), z(2), z(3), z(4), z(5))
                let first = staged + (column + j) * lanes
                store(y.0 + bias, first)
                if rows > 1 { store(y.1 + bias, first + width * lanes) }
                if rows > 2 { store(y.2 + bias, first + 2 * width * lanes) }
                if rows > 3 { store(y.3 + bias, first + 3 * width * lanes) }
            }
        }
    }
}

extension WinogradConvolution.Problem {
    /// The forward pass of a convolution.
    init(sizes s: Convolution.Sizes, geometry g: WindowGeometry) {
        self.init(batch: s.batch, channels: s.channels, height: s.height, width: s.width, top: g.paddingHeight,
                  left: g.paddingWidth, outputs: s.outputChannels, outputHeight: s.outputHeight,
                  outputWidth: s.outputWidth)
    }
}

/// Stores six vectors at `p`, `stride` floats apart: a row or a column of a tile's transform.
@inline(__always)
private func store<V: SIMD>(_ six: (V, V, V, V, V, V), _ p: UnsafeMutablePointer<Float>, stride: Int)
where V.Scalar == Float {
    store(six.0, p); store(six.1, p + stride); store(six.2, p + 2 * stride)
    store(six.3, p + 3 * stride); store(six.4, p + 4 * stride); store(six.5, p + 5 * stride)
}

/// The first `count` floats at `p` in the first lanes, zeros after them; reads nothing past them. Eight or more of
/// sixteen (8-wide rows) take one half-width load.
@inline(__always)
private func loadPrefix<V: SIMD>(_ p: UnsafePointer<Float>, count: Int) -> V where V.Scalar == Float {
    if count == V.scalarCount { return load(p) }
    var v = V(), first = 0
    if V.scalarCount == 16 && count >= 8 {
        v = unsafeBitCast(SIMD16<Float>(lowHalf: load(p), highHalf: SIMD8()), to: V.self)
        first = 8
    }
    for l in first..<count { v[l] = p[l] }
    return v
}

/// Stores the first `count` lanes of `v` at `p`; writes nothing past them. Eight or more of sixteen take one
/// half-width store.
@inline(__always)
private func storePrefix<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>, count: Int) where V.Scalar == Float {
    if count == V.scalarCount {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
        return
    }
    var first = 0
    if V.scalarCount == 16 && count >= 8 {
        UnsafeMutableRawPointer(p).storeBytes(of: unsafeBitCast(v, to: SIMD16<Float>.self).lowHalf, as: SIMD8<Float>.self)
        first = 8
    }
    for l in first..<count { p[l] = v[l] }
}

/// The vector types the Winograd kernels run on, with what depends on their width: the transpose of a square of
/// vectors and the register tile of the products.
protocol WinogradVector: SIMD where Scalar == Float {
    /// Tiles of one product's register tile: as many accumulators as the registers hold beside the operands.
    static var tilesPerProduct: Int { get }
    /// Transposes the square whose rows are `rows[0..<scalarCount]`, in place.
    static func transpose(_ rows: UnsafeMutablePointer<Self>)
    /// target[t] = Σ_c inputs[c][t] * weights[c] for `tilesPerProduct` tiles t (each a vector of output channels):
    /// inputs hold one vector of channels per tile, blocks of channels `blockStride` apart; the weights of
    /// consecutive channels are `weightStride` apart.
    static func multiplyTiles(inputs: UnsafePointer<Float>, channelBlocks: Int, blockStride: Int,
                              weights: UnsafePointer<Float>, weightStride: Int, into target: UnsafeMutablePointer<Float>)
    /// target[c * stride] += Σ_t inputs[t][c] * gradients[t] for the scalarCount channels c of one block: inputs
    /// hold one vector of channels per tile, gradients one vector of output channels per tile.
    static func accumulateProducts(inputs: UnsafePointer<Float>, gradients: UnsafePointer<Float>, tiles: Int,
                                   into target: UnsafeMutablePointer<Float>, stride: Int)
}

extension WinogradVector {
    /// target[c * stride] += sums[c] for the scalarCount vectors of `sums`.
    @inline(__always)
    static func add(_ sums: UnsafePointer<Self>, into target: UnsafeMutablePointer<Float>, stride: Int) {
        for c in 0..<scalarCount {
            let p = target + c * stride
            UnsafeMutableRawPointer(p).storeBytes(of: load(p) + sums[c], as: Self.self)
        }
    }
}

/// 12 accumulators, named one by one so that LLVM keeps them in registers.
private struct TwelveSums<V: SIMD> where V.Scalar == Float {
    var s0 = V(), s1 = V(), s2 = V(), s3 = V(), s4 = V(), s5 = V()
    var s6 = V(), s7 = V(), s8 = V(), s9 = V(), s10 = V(), s11 = V()

    /// s_t += x[t * lanes] * w, the x of tile t broadcast.
    @inline(__always)
    mutating func add(_ w: V, _ x: UnsafePointer<Float>) {
        let n = V.scalarCount
        s0.addProduct(V(repeating: x[0]), w); s1.addProduct(V(repeating: x[n]), w)
        s2.addProduct(V(repeating: x[2 * n]), w); s3.addProduct(V(repeating: x[3 * n]), w)
        s4.addProduct(V(repeating: x[4 * n]), w); s5.addProduct(V(repeating: x[5 * n]), w)
        s6.addProduct(V(repeating: x[6 * n]), w); s7.addProduct(V(repeating: x[7 * n]), w)
        s8.addProduct(V(repeating: x[8 * n]), w); s9.addProduct(V(repeating: x[9 * n]), w)
        s10.addProduct(V(repeating: x[10 * n]), w); s11.addProduct(V(repeating: x[11 * n]), w)
    }

    @inline(__always)
    func store(_ p: UnsafeMutablePointer<Float>) {
        let n = V.scalarCount
        @inline(__always) func put(_ t: Int, _ v: V) { UnsafeMutableRawPointer(p + t * n).storeBytes(of: v, as: V.self) }
        put(0, s0); put(1, s1); put(2, s2); put(3, s3); put(4, s4); put(5, s5)
        put(6, s6); put(7, s7); put(8, s8); put(9, s9); put(10, s10); put(11, s11)
    }
}

extension SIMD16: WinogradVector where Scalar == Float {
    static var tilesPerProduct: Int { 24 }

    // Each round pairs rows 2k and 2k + 1 and deals their even lanes to row k and odd ones to row k + 8; the
    // (row, lane) index bits rotate by one per round, so four rounds transpose. The rows stay in registers.
    static func transpose(_ rows: UnsafeMutablePointer<Self>) {
        @inline(__always) func even(_ a: Self, _ b: Self) -> Self { SIMD32(lowHalf: a, highHalf: b).evenHalf }
        @inline(__always) func odd(_ a: Self, _ b: Self) -> Self { SIMD32(lowHalf: a, highHalf: b).oddHalf }
        var (r0, r1, r2, r3, r4, r5, r6, r7) = (rows[0], rows[1], rows[2], rows[3], rows[4], rows[5], rows[6], rows[7])
        var (r8, r9, r10, r11, r12, r13, r14, r15) = (rows[8], rows[9], rows[10], rows[11], rows[12], rows[13],
                                                      rows[14], rows[15])
        for _ in 0..<4 {
            (r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, r12, r13, r14, r15) =
                (even(r0, r1), even(r2, r3), even(r4, r5), even(r6, r7), even(r8, r9), even(r10, r11),
                 even(r12, r13), even(r14, r15), odd(r0, r1), odd(r2, r3), odd(r4, r5), odd(r6, r7), odd(r8, r9),
                 odd(r10, r11), odd(r12, r13), odd(r14, r15))
        }
        rows[0] = r0; rows[1] = r1; rows[2] = r2; rows[3] = r3; rows[4] = r4; rows[5] = r5; rows[6] = r6
        rows[7] = r7; rows[8] = r8; rows[9] = r9; rows[10] = r10; rows[11] = r11; rows[12] = r12; rows[13] = r13
        rows[14] = r14; rows[15] = r15
    }

    static func multiplyTiles(inputs: UnsafePointer<Float>, channelBlocks: Int, blockStride: Int,
                              weights: UnsafePointer<Float>, weightStride: Int, into target: UnsafeMutablePointer<Float>) {
        var low = TwelveSums<Self>(), high = TwelveSums<Self>()
        var w = weights
        for block in 0..<channelBlocks {
            var x = inputs + block * blockStride
            for _ in 0..<16 {
                let weight: Self = load(w)
                low.add(weight, x)
                high.add(weight, x + 12 * 16)
                w += weightStride
                x += 1
            }
        }
        low.store(target)
        high.store(target + 12 * 16)
    }
}

extension SIMD16 {
    static func accumulateProducts(inputs: UnsafePointer<Float>, gradients: UnsafePointer<Float>, tiles: Int,
                                   into target: UnsafeMutablePointer<Float>, stride: Int) where Scalar == Float {
        var low = EightPositionSums<Self>(Self()), high = EightPositionSums<Self>(Self())
        var x = inputs, g = gradients
        for _ in 0..<tiles {
            let gradient: Self = load(g)
            low.add(gradient, x)
            high.add(gradient, x + 8)
            x += 16
            g += 16
        }
        withUnsafeTemporaryAllocation(of: Self.self, capacity: 16) { buffer in
            let sums = buffer.baseAddress!
            let floats = UnsafeMutableRawPointer(sums).assumingMemoryBound(to: Float.self)
            low.store(into: floats, stride: 16)
            high.store(into: floats + 8 * 16, stride: 16)
            add(sums, into: target, stride: stride)
        }
    }
}

extension SIMD8: WinogradVector where Scalar == Float {
    static var tilesPerProduct: Int { 12 }

    // As SIMD16's, in three rounds.
    static func transpose(_ rows: UnsafeMutablePointer<Self>) {
        @inline(__always) func even(_ a: Self, _ b: Self) -> Self { SIMD16(lowHalf: a, highHalf: b).evenHalf }
        @inline(__always) func odd(_ a: Self, _ b: Self) -> Self { SIMD16(lowHalf: a, highHalf: b).oddHalf }
        var (r0, r1, r2, r3, r4, r5, r6, r7) = (rows[0], rows[1], rows[2], rows[3], rows[4], rows[5], rows[6], rows[7])
        for _ in 0..<3 {
            (r0, r1, r2, r3, r4, r5, r6, r7) = (even(r0, r1), even(r2, r3), even(r4, r5), even(r6, r7),
                                                odd(r0, r1), odd(r2, r3), odd(r4, r5), odd(r6, r7))
        }
        rows[0] = r0; rows[1] = r1; rows[2] = r2; rows[3] = r3; rows[4] = r4; rows[5] = r5; rows[6] = r6
        rows[7] = r7
    }

    static func multiplyTiles(inputs: UnsafePointer<Float>, channelBlocks: Int, blockStride: Int,
                              weights: UnsafePointer<Float>, weightStride: Int, into target: UnsafeMutablePointer<Float>) {
        var sums = TwelveSums<Self>()
        var w = weights
        for block in 0..<channelBlocks {
            var x = inputs + block * blockStride
            for _ in 0..<8 {
                let weight: Self = load(w)
                sums.add(weight, x)
                w += weightStride
                x += 1
            }
        }
        sums.store(target)
    }

    static func accumulateProducts(inputs: UnsafePointer<Float>, gradients: UnsafePointer<Float>, tiles: Int,
                                   into target: UnsafeMutablePointer<Float>, stride: Int) {
        var sums8 = EightPositionSums<Self>(Self())
        var x = inputs, g = gradients
        for _ in 0..<tiles {
            sums8.add(load(g), x)
            x += 8
            g += 8
        }
        withUnsafeTemporaryAllocation(of: Self.self, capacity: 8) { buffer in
            let sums = buffer.baseAddress!
            sums8.store(into: UnsafeMutableRawPointer(sums).assumingMemoryBound(to: Float.self), stride: 8)
            add(sums, into: target, stride: stride)
        }
    }
}
