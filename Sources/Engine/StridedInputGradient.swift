/// The input gradient of a stride-2 convolution without unfolding, as four stride-1 convolutions.
///
/// The input gradient is the output gradient spread back through the kernel: input row 2a + phase takes kernel row
/// u from output row (2a + phase + padding - u) / 2 where that is whole, so each of its four phases (even or odd
/// rows by even or odd columns) is a stride-1 convolution of the output gradient with the kernel taps of one parity
/// in each dimension: for a 3x3 kernel 2x2, 2x1, 1x2 and 1x1 taps, 9 in all, the multiplies of the direct
/// convolution. The unfolded GEMM instead computes the gradient of 9 copies of the image and scatters them back
/// (col2im), which took longer than the GEMM itself on ResNet-20's strided layers.
///
/// Per image, the output gradient is copied once into a zero-padded buffer that the four phases read at offsets of
/// their own. With AVX-512 and at least 2 vectors of input channels, a tile holds 8 consecutive positions of a phase
/// row x 2 vectors of input channels: per output channel and tap it loads 2 vectors of the kernel and broadcasts 8
/// output-gradient values for 16 FMAs (as `StridedForward`); the sums are staged and each row of the input gradient
/// is transposed back from its two column phases, interleaved in registers. Otherwise the phases are computed by
/// `DirectConvolution`'s tiles, whose vectors run along a phase row, into planes of their own that are then
/// interleaved. Images are independent: the result does not depend on the thread count.
enum StridedInputGradient {
    /// The kernel taps of one dimension that reach one phase of the input gradient.
    struct PhaseTaps {
        /// Taps of the phase: its tap t is the kernel's tap `last - 2t`.
        let count: Int, last: Int
        /// Output position of tap 0 for the phase's position a, less a (negative above the output's start).
        let first: Int
        /// The phase's positions: input positions 2a + phase below the input's size.
        let positions: Int

        init(phase: Int, kernel: Int, padding: Int, size: Int) {
            // Taps u of the parity of phase + padding reach the phase; the largest reads the lowest output position.
            last = kernel - 1 - ((kernel - 1 - phase - padding) & 1)
            count = last / 2 + 1
            first = (phase + padding - last) / 2
            positions = (size - phase + 1) / 2
        }
    }

    /// The taps of both phases in each dimension, and the zero rows and columns that the padded output gradient
    /// needs above and left of it for the phases whose first tap reads before the output's start.
    struct Phases {
        let rows: [PhaseTaps], columns: [PhaseTaps]
        let top: Int, left: Int
        /// The phases (row phase, column phase) in the order their planes and kernels are laid out.
        static let order = [(0, 0), (0, 1), (1, 0), (1, 1)]

        init(_ g: WindowGeometry, sizes s: Convolution.Sizes) {
            rows = (0..<2).map {
                PhaseTaps(phase: $0, kernel: g.kernelHeight, padding: g.paddingHeight, size: s.height)
            }
            columns = (0..<2).map {
                PhaseTaps(phase: $0, kernel: g.kernelWidth, padding: g.paddingWidth, size: s.width)
            }
            top = max(0, -min(rows[0].first, rows[1].first))
            left = max(0, -min(columns[0].first, columns[1].first))
        }

        /// The padded output gradient that every phase reads; phase 0 has the most positions in each dimension, so
        /// that its tiles reach furthest.
        func layout(sizes s: Convolution.Sizes, lanes: Int, rowsPerTile: Int) -> DirectConvolution.PaddedLayout {
            DirectConvolution.PaddedLayout(
                channels: s.outputChannels, height: s.outputHeight, width: s.outputWidth, top: top, left: left,
                outputHeight: rows[0].positions, outputWidth: columns[0].positions,
                kernelHeight: rows.map { top + $0.first + $0.count }.max()!,
                kernelWidth: columns.map { left + $0.first + $0.count }.max()!,
                stride: 1, lanes: lanes, rowsPerTile: rowsPerTile)
        }
    }

    /// Whether the tiles of input-channel vectors compute the phases: with AVX-512 (without it, 16 registers of 8
    /// floats leave one vector of channels per tile, whose 8 broadcasts outnumber its 8 FMAs) and at least 2
    /// vectors of input channels (ResNet-20's 16-channel input gradient ran 76 GFLOP/s so against 81-86 by the
    /// direct tiles, its 32-channel one 96 against 86).
    static func usesChannelVectors(sizes s: Convolution.Sizes) -> Bool {
        CPUFeatures.hasAVX512 && s.channels >= 32
    }

    /// inputGradient = the gradient of the loss with respect to the input, for a kernel of at least 2x2 at stride 2
    /// with padding smaller than the kernel.
    static func backwardInput(outputGradient: Tensor, weight: Tensor, geometry g: WindowGeometry,
                              inputGradient: Tensor, sizes s: Convolution.Sizes, workspace: Workspace) {
        let phases = Phases(g, sizes: s)
        if usesChannelVectors(sizes: s) {
            byChannelVectors(outputGradient: outputGradient, weight: weight, geometry: g, phases: phases,
                             inputGradient: inputGradient, sizes: s, workspace: workspace)
        } else {
            byDirectTiles(outputGradient: outputGradient, weight: weight, geometry: g, phases: phases,
                          inputGradient: inputGradient, sizes: s, workspace: workspace)
        }
    }

    // MARK: Input-channel vectors

    /// The phases by tiles of 8 positions x 2 vectors of input channels.
    static func byChannelVectors(outputGradient: Tensor, weight: Tensor, geometry g: WindowGeometry, phases: Phases,
                                 inputGradient: Tensor, sizes s: Convolution.Sizes, workspace: Workspace) {
        // outputGradient is (N,O,oH,oW), weight is (O,C,kh,kw), inputGradient is (N,C,H,W)
        typealias V = SIMD16<Float>
        let lanes = V.scalarCount, tile = positionsPerTile
        let rowTaps = phases.rows, columnTaps = phases.columns, top = phases.top, left = phases.left
        let layout = phases.layout(sizes: s, lanes: tile, rowsPerTile: 1)
        let blocks = (s.channels + lanes - 1) / lanes, paddedChannels = blocks * lanes
        let taps = s.patch / s.channels
        // Per phase, its taps of the kernel as [output channel][tap of the phase][input channel], and its staged
        // sums as [row of the phase][position of the row, whole tiles][input channel].
        var packedOffsets: [Int] = [], stagedOffsets: [Int] = [], packedCount = 0, stagedCount = 0
        for (py, px) in Phases.order {
            packedOffsets.append(packedCount)
            stagedOffsets.append(stagedCount)
            packedCount += s.outputChannels * rowTaps[py].count * columnTaps[px].count * paddedChannels
            stagedCount += rowTaps[py].positions * roundUp(columnTaps[px].positions, tile) * paddedChannels
        }
        let perThread = layout.count + stagedCount
        let scratch = workspace.buffer(count: packedCount + ComputeThreads.count * perThread)
        Elementwise.zero(scratch, count: packedCount + ComputeThreads.count * perThread)
        for (phase, (py, px)) in Phases.order.enumerated() {
            let r = rowTaps[py], c = columnTaps[px], packed = scratch + packedOffsets[phase]
            for o in 0..<s.outputChannels {
                for i in 0..<r.count {
                    for j in 0..<c.count {
                        let target = packed + ((o * r.count + i) * c.count + j) * paddedChannels
                        let tap = (r.last - 2 * i) * g.kernelWidth + c.last - 2 * j
                        for k in 0..<s.channels { target[k] = weight.pointer[(o * s.channels + k) * taps + tap] }
                    }
                }
            }
        }
        ComputeThreads.forEach(s.batch) { n, thread in
            let padded = scratch + packedCount + thread * perThread, staged = padded + layout.count
            layout.copy(outputGradient.pointer + n * s.outputCount, into: padded)
            for (phase, (py, px)) in Phases.order.enumerated() {
                let r = rowTaps[py], c = columnTaps[px], rowPositions = roundUp(c.positions, tile)
                let packed = scratch + packedOffsets[phase]
                for a in 0..<r.positions {
                    for b0 in stride(from: 0, to: c.positions, by: tile) {
                        let x = padded + (top + r.first + a) * layout.rowStride + left + c.first + b0
                        let target = staged + stagedOffsets[phase] + (a * rowPositions + b0) * paddedChannels
                        for k in stride(from: 0, to: blocks, by: 2) {
                            if k + 1 < blocks {
                                multiply(V.self, twoVectors: true, input: x, layout: layout, rows: r.count,
                                         columns: c.count, weights: packed + k * lanes, stride: paddedChannels,
                                         into: target + k * lanes)
                            } else {
                                multiply(V.self, twoVectors: false, input: x, layout: layout, rows: r.count,
                                         columns: c.count, weights: packed + k * lanes, stride: paddedChannels,
                                         into: target + k * lanes)
                            }
                        }
                    }
                }
            }
            unstage(V.self, staged, offsets: stagedOffsets, rowTaps: rowTaps, columnTaps: columnTaps, sizes: s,
                    paddedChannels: paddedChannels, into: inputGradient.pointer + n * s.imageCount)
        }
    }

    /// Outputs of one phase row per tile.
    static let positionsPerTile = 8

    /// staged[(position k) * stride + l] = Σ_o Σ_(i,j) weights[((o * rows + i) * columns + j) * stride + l] x the
    /// output gradient under tap (i, j) of position k of the tile, for the lanes l of one vector of input channels
    /// (two when `twoVectors`, the second `lanes` on). `input` is the padded output gradient under tap (0, 0) of the
    /// tile's first position, in output channel 0.
    @inline(__always)
    static func multiply<V: SIMD>(_: V.Type, twoVectors: Bool, input: UnsafePointer<Float>,
                                  layout: DirectConvolution.PaddedLayout, rows: Int, columns: Int,
                                  weights: UnsafePointer<Float>, stride: Int, into staged: UnsafeMutablePointer<Float>)
    where V.Scalar == Float {
        EightPositionSums<V>.accumulate(twoVectors: twoVectors, input: input, channels: layout.channels,
                                        planeStride: layout.planeStride, rows: rows, rowStride: layout.rowStride,
                                        columns: columns, columnOffset: { $0 }, weights: weights, stride: stride,
                                        start: (V(), V()), into: staged)
    }

    /// One image's staged phases transposed into its NCHW input gradient: per row, the squares of lanes x lanes
    /// positions and input channels of its two column phases transposed in registers and their rows interleaved.
    static func unstage<V: WinogradVector>(_: V.Type, _ staged: UnsafePointer<Float>, offsets: [Int],
                                           rowTaps: [PhaseTaps], columnTaps: [PhaseTaps], sizes s: Convolution.Sizes,
                                           paddedChannels: Int, into image: UnsafeMutablePointer<Float>) {
        let lanes = V.scalarCount, half = lanes / 2
        let evenCount = columnTaps[0].positions, oddCount = columnTaps[1].positions
        let evenRow = roundUp(evenCount, positionsPerTile), oddRow = roundUp(oddCount, positionsPerTile)
        withUnsafeTemporaryAllocation(of: V.self, capacity: 2 * lanes) { buffer in
            let even = buffer.baseAddress!, odd = even + lanes
            for c0 in stride(from: 0, to: s.channels, by: lanes) {
                let channels = min(lanes, s.channels - c0)
                for y in 0..<s.height {
                    let py = y % 2, a = y / 2
                    let evenStaged = staged + offsets[2 * py] + a * evenRow * paddedChannels + c0
                    let oddStaged = staged + offsets[2 * py + 1] + a * oddRow * paddedChannels + c0
                    for b0 in stride(from: 0, to: evenCount, by: lanes) {
                        let evens = min(lanes, evenCount - b0), odds = max(0, min(lanes, oddCount - b0))
                        for p in 0..<lanes {
                            even[p] = p < evens ? load(evenStaged + (b0 + p) * paddedChannels) : V()
                            odd[p] = p < odds ? load(oddStaged + (b0 + p) * paddedChannels) : V()
                        }
                        V.transpose(even)
                        V.transpose(odd)
                        for l in 0..<channels {
                            let row = image + ((c0 + l) * s.height + y) * s.width + 2 * b0
                            let e = even[l], o = odd[l]
                            if evens == lanes && odds == lanes {
                                var low = V(), high = V()
                                for k in 0..<half {
                                    low[2 * k] = e[k]
                                    low[2 * k + 1] = o[k]
                                    high[2 * k] = e[half + k]
                                    high[2 * k + 1] = o[half + k]
                                }
                                store(low, row)
                                store(high, row + lanes)
                            } else {
                                for p in 0..<evens { row[2 * p] = e[p] }
                                for p in 0..<odds { row[2 * p + 1] = o[p] }
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: Direct tiles

    /// The phases by `DirectConvolution`'s tiles, each into a plane of its own, interleaved into the input gradient.
    static func byDirectTiles(outputGradient: Tensor, weight: Tensor, geometry g: WindowGeometry, phases: Phases,
                              inputGradient: Tensor, sizes s: Convolution.Sizes, workspace: Workspace) {
        // outputGradient is (N,O,oH,oW), weight is (O,C,kh,kw), inputGradient is (N,C,H,W)
        let rowTaps = phases.rows, columnTaps = phases.columns, top = phases.top, left = phases.left
        DirectConvolution.withVectors(outputWidth: columnTaps[0].positions) { vector, rows in
            let layout = phases.layout(sizes: s, lanes: vector, rowsPerTile: rows)
            let tile = DirectConvolution.channelsPerTile
            let packedCounts = Phases.order.map { py, px in
                roundUp(s.channels, tile) * s.outputChannels * rowTaps[py].count * columnTaps[px].count
            }
            let packedCount = packedCounts.reduce(0, +)
            let perThread = layout.count + s.imageCount
            let scratch = workspace.buffer(count: packedCount + ComputeThreads.count * perThread)
            for thread in 0..<ComputeThreads.count {
                Elementwise.zero(scratch + packedCount + thread * perThread, count: layout.count)
            }
            var packedOffsets: [Int] = [], offset = 0
            for (phase, (py, px)) in Phases.order.enumerated() {
                packedOffsets.append(offset)
                pack(weight.pointer, sizes: s, kernelWidth: g.kernelWidth, rows: rowTaps[py],
                     columns: columnTaps[px], into: scratch + offset)
                offset += packedCounts[phase]
            }
            ComputeThreads.forEach(s.batch) { n, thread in
                let padded = scratch + packedCount + thread * perThread, planes = padded + layout.count
                layout.copy(outputGradient.pointer + n * s.outputCount, into: padded)
                // The phases' planes, (C, rows of the phase, columns of the phase) each, one after another.
                var planeStarts: [UnsafeMutablePointer<Float>] = [], plane = planes
                for (phase, (py, px)) in Phases.order.enumerated() {
                    planeStarts.append(plane)
                    let r = rowTaps[py], c = columnTaps[px]
                    plane += s.channels * r.positions * c.positions
                    guard r.positions > 0 && c.positions > 0 else { continue }
                    let view = layout.reading(kernelHeight: r.count, kernelWidth: c.count,
                                              outputHeight: r.positions, outputWidth: c.positions)
                    let source = padded + (top + r.first) * layout.rowStride + left + c.first
                    if vector == 16 {
                        DirectConvolution.convolvePadded(SIMD16<Float>.self, rows: rows, layout: view,
                                                         packed: scratch + packedOffsets[phase], bias: nil,
                                                         outputChannels: s.channels, output: planeStarts[phase],
                                                         padded: source)
                    } else {
                        DirectConvolution.convolvePadded(SIMD8<Float>.self, rows: rows, layout: view,
                                                         packed: scratch + packedOffsets[phase], bias: nil,
                                                         outputChannels: s.channels, output: planeStarts[phase],
                                                         padded: source)
                    }
                }
                let image = inputGradient.pointer + n * s.imageCount
                for c in 0..<s.channels {
                    for y in 0..<s.height {
                        let py = y % 2, a = y / 2, rows = rowTaps[py].positions
                        let even = columnTaps[0].positions, odd = columnTaps[1].positions
                        interleave(even: planeStarts[2 * py] + (c * rows + a) * even,
                                   odd: planeStarts[2 * py + 1] + (c * rows + a) * odd, evenCount: even,
                                   oddCount: odd, into: image + (c * s.height + y) * s.width)
                    }
                }
            }
        }
    }

    /// Packs one phase's taps for the tiles as `DirectConvolution.packWeights` packs a kernel transposed: [tile of
    /// 4 input channels][output channel][tap of the phase][4], zeros past the last input channel.
    static func pack(_ weight: UnsafePointer<Float>, sizes s: Convolution.Sizes, kernelWidth: Int, rows: PhaseTaps,
                     columns: PhaseTaps, into packed: UnsafeMutablePointer<Float>) {
        let tile = DirectConvolution.channelsPerTile, taps = s.patch / s.channels
        var p = packed
        for c0 in stride(from: 0, to: s.channels, by: tile) {
            for o in 0..<s.outputChannels {
                for i in 0..<rows.count {
                    for j in 0..<columns.count {
                        let u = rows.last - 2 * i, v = columns.last - 2 * j
                        for l in 0..<tile {
                            let c = c0 + l
                            p[l] = c < s.channels ? weight[(o * s.channels + c) * taps + u * kernelWidth + v] : 0
                        }
                        p += tile
                    }
                }
            }
        }
    }

    /// One row of the input gradient from its two column phases: row[2b] = even[b], row[2b + 1] = odd[b].
    @inline(__always)
    static func interleave(even: UnsafePointer<Float>, odd: UnsafePointer<Float>, evenCount: Int, oddCount: Int,
                           into row: UnsafeMutablePointer<Float>) {
        var b = 0
        while b + 8 <= oddCount {
            let e: SIMD8<Float> = load(even + b), o: SIMD8<Float> = load(odd + b)
            var pairs = SIMD16<Float>()
            for l in 0..<8 {
                pairs[2 * l] = e[l]
                pairs[2 * l + 1] = o[l]
            }
            store(pairs, row + 2 * b)
            b += 8
        }
        while b < oddCount {
            row[2 * b] = even[b]
            row[2 * b + 1] = odd[b]
            b += 1
        }
        if evenCount > oddCount { row[2 * b] = even[b] }
    }
}
