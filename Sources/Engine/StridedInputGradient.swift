/// The input gradient of a stride-2 convolution by the direct stride-1 tiles (`DirectConvolution`), without
/// unfolding.
///
/// The input gradient is the output gradient spread back through the kernel: input row 2a + phase takes kernel row
/// u from output row (2a + phase + padding - u) / 2 where that is whole, so each of its four phases (even or odd
/// rows by even or odd columns) is a stride-1 convolution of the output gradient with the kernel taps of one parity
/// in each dimension: for a 3x3 kernel 2x2, 2x1, 1x2 and 1x1 taps, 9 in all, the multiplies of the direct
/// convolution. The unfolded GEMM instead computes the gradient of 9 copies of the image and scatters them back
/// (col2im), which took longer than the GEMM itself on ResNet-20's strided layers.
///
/// Per image, the output gradient is copied once into a zero-padded buffer that the four phases read at offsets of
/// their own, each phase is computed into a plane of its own, and the planes are interleaved into the input
/// gradient's rows. Images are independent: the result does not depend on the thread count.
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

    /// inputGradient = the gradient of the loss with respect to the input, for a kernel of at least 2x2 at stride 2
    /// with padding smaller than the kernel.
    static func backwardInput(outputGradient: Tensor, weight: Tensor, geometry g: WindowGeometry,
                              inputGradient: Tensor, sizes s: Convolution.Sizes, workspace: Workspace) {
        // outputGradient is (N,O,oH,oW), weight is (O,C,kh,kw), inputGradient is (N,C,H,W)
        let rowTaps = (0..<2).map { PhaseTaps(phase: $0, kernel: g.kernelHeight, padding: g.paddingHeight,
                                              size: s.height) }
        let columnTaps = (0..<2).map { PhaseTaps(phase: $0, kernel: g.kernelWidth, padding: g.paddingWidth,
                                                 size: s.width) }
        let top = max(0, -min(rowTaps[0].first, rowTaps[1].first))
        let left = max(0, -min(columnTaps[0].first, columnTaps[1].first))
        let phases = [(0, 0), (0, 1), (1, 0), (1, 1)]
        // Phase 0 has the most positions in each dimension, so that its tiles reach furthest.
        DirectConvolution.withVectors(outputWidth: columnTaps[0].positions) { vector, rows in
            let layout = DirectConvolution.PaddedLayout(
                channels: s.outputChannels, height: s.outputHeight, width: s.outputWidth, top: top, left: left,
                outputHeight: rowTaps[0].positions, outputWidth: columnTaps[0].positions,
                kernelHeight: rowTaps.map { top + $0.first + $0.count }.max()!,
                kernelWidth: columnTaps.map { left + $0.first + $0.count }.max()!,
                stride: 1, lanes: vector, rowsPerTile: rows)
            let tile = DirectConvolution.channelsPerTile
            let packedCounts = phases.map { py, px in
                roundUp(s.channels, tile) * s.outputChannels * rowTaps[py].count * columnTaps[px].count
            }
            let packedCount = packedCounts.reduce(0, +)
            let perThread = layout.count + s.imageCount
            let scratch = workspace.buffer(count: packedCount + ComputeThreads.count * perThread)
            for thread in 0..<ComputeThreads.count {
                Elementwise.zero(scratch + packedCount + thread * perThread, count: layout.count)
            }
            var packedOffsets: [Int] = [], offset = 0
            for (phase, (py, px)) in phases.enumerated() {
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
                for (phase, (py, px)) in phases.enumerated() {
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
