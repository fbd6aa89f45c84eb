/// Convolution with stride 1 or 2 computed from the image itself, without unfolding it: the forward pass, the input
/// gradient (at stride 1 the same convolution of the output gradient with the flipped, transposed kernel, at stride 2
/// four such convolutions, `StridedInputGradient`) and the weight gradient, on NCHW tensors. For 3x3 kernels at
/// stride 2 the forward pass and the weight gradient have tiles of their own (`StridedForward`,
/// `StridedWeightGradient`).
///
/// im2col writes kh*kw copies of the image for a GEMM to read back, which costs as much as the GEMM on layers of
/// 16-64 channels. Here a register tile of 4 output channels x 4 output rows x one vector of output columns
/// accumulates over every input channel and kernel tap: a tap loads 4 input vectors and broadcasts 4 weights for 16
/// FMAs, all from L1. The image is first copied into a zero-padded buffer whose rows hold whole vectors (zeroed
/// once per call, the images' pixels landing in the same places), so that the tile runs without bounds tests;
/// lanes, rows and output channels past the edges are computed on zeros and dropped. The weight gradient
/// accumulates 4 output channels x 3 taps of one or two kernel rows over all the positions of a group of images, in
/// vectors summed once at the end.
///
/// The vectors are 16 floats with AVX-512 (32 registers: the 16 accumulators stay in registers), 8 for outputs at
/// most 8 wide; without AVX-512 they are 8 floats and the tile is 3 rows high, to fit 16 registers.
enum DirectConvolution {
    /// Output channels per register tile.
    static let channelsPerTile = 4
    /// Kernel taps of one row per weight-gradient tile.
    static let tapsPerTile = 3

    /// Whether the direct kernels compute this pass of this geometry: a kernel larger than 1x1 (a pointwise
    /// convolution already is a GEMM on the image), padding smaller than the kernel (so that the input gradient is
    /// a convolution with non-negative padding), and stride 1 or 2 (at stride 2 the input gradient is four
    /// stride-1 convolutions, `StridedInputGradient`).
    static func applies(_ pass: Convolution.Pass, to g: WindowGeometry) -> Bool {
        g.strideHeight == g.strideWidth && (1...2).contains(g.strideHeight)
            && g.kernelHeight * g.kernelWidth > 1 && g.paddingHeight < g.kernelHeight
            && g.paddingWidth < g.kernelWidth
    }

    /// Whether the direct kernels beat the unfolded GEMM on this pass, as measured layer by layer on ResNet-20,
    /// ResNet-50 and LeNet-5 (`dtrain-benchmark --profile`, and one layer at a time alternating with the GEMM,
    /// Sapphire Rapids with OpenBLAS's Cooperlake kernels, one thread):
    /// - the output must fill at least half of the lanes and rows the tiles compute (LeNet-5's conv3, 5x5 to 1x1,
    ///   fills 1 lane in 8: a fully connected layer);
    /// - forward and input gradient: up to 64 input and output channels (ResNet-20: 75-124 GFLOP/s against the
    ///   GEMM's 43-58; at 128 channels and more the GEMM is as fast or faster, 98-112 against 93-102); at stride 2
    ///   the input gradient of ResNet-20's 3x3 layers runs 96 against the GEMM's 41-59, ResNet-50's 59-98 against
    ///   91-117, even at 128 channels (it is measured on 3x3 kernels only); the 3x3 forward pass at stride 2
    ///   (`StridedForward`, whose vectors run across output channels) up to 128 channels: 112-129 against 42-94 on
    ///   ResNet-20's and ResNet-50's 128-channel layers, 68 against 110 at 256;
    /// - weight gradient: weights of fewer than 32768 values (the GEMM's (O, C*kh*kw) result is then too small for
    ///   it: 71 against 34-44 at 16-32 channels, 53-66 against 40-52 on ResNet-50's stem, 64 x 3*7*7, and 44 against
    ///   52 at 64 x 64*3*3); for 3x3 kernels at stride 2
    ///   (`StridedWeightGradient`, whose vectors run across output channels) up to 128 channels: 106-121 against
    ///   33-85 on ResNet-20's and ResNet-50's 128-channel layers, 88 against 108 at 256.
    static func isFaster(_ pass: Convolution.Pass, geometry g: WindowGeometry, sizes s: Convolution.Sizes) -> Bool {
        let channels = max(s.channels, s.outputChannels)
        if pass == .forward && StridedForward.applies(to: g) { return channels <= 128 }
        if pass == .weightGradient && StridedWeightGradient.applies(to: g) { return channels <= 128 }
        var filled = 0.0
        withVectors(outputWidth: s.outputWidth) { lanes, rows in
            filled = Double(s.outputWidth * s.outputHeight)
                / Double(roundUp(s.outputWidth, lanes) * roundUp(s.outputHeight, rows))
        }
        guard filled >= 0.5 else { return false }
        switch pass {
        case .forward: return channels <= 64
        case .inputGradient:
            return channels <= 64 && (g.strideHeight == 1 || (g.kernelHeight == 3 && g.kernelWidth == 3))
        case .weightGradient: return s.outputChannels * s.patch < 1 << 15
        }
    }

    /// The zero-padded copy of an image that the tiles read: rows of whole vectors plus the taps' reach, and whole
    /// tiles of rows. At stride 2 each padded row is stored as its even columns followed by its odd ones, so that
    /// the inputs of a tap for consecutive outputs are again consecutive (`tapOffset`), and a tile's rows are two
    /// padded rows apart (`rowStep`).
    struct PaddedLayout {
        let channels: Int, height: Int, width: Int
        let top: Int, left: Int
        private(set) var outputHeight: Int, outputWidth: Int
        private(set) var kernelHeight: Int, kernelWidth: Int
        let stride: Int
        let lanes: Int, rowsPerTile: Int
        /// The columns of one phase (all of a row at stride 1).
        let phaseWidth: Int
        let paddedHeight: Int

        init(channels: Int, height: Int, width: Int, top: Int, left: Int, outputHeight: Int, outputWidth: Int,
             kernelHeight: Int, kernelWidth: Int, stride: Int, lanes: Int, rowsPerTile: Int) {
            (self.channels, self.height, self.width, self.top, self.left) = (channels, height, width, top, left)
            (self.outputHeight, self.outputWidth) = (outputHeight, outputWidth)
            (self.kernelHeight, self.kernelWidth, self.stride) = (kernelHeight, kernelWidth, stride)
            (self.lanes, self.rowsPerTile) = (lanes, rowsPerTile)
            let taps = roundUp(kernelWidth, DirectConvolution.tapsPerTile)
            let segments = (outputWidth + lanes - 1) / lanes
            phaseWidth = max(segments * lanes + (taps - 1 + stride - 1) / stride, (left + width + stride - 1) / stride)
            paddedHeight = max(stride * roundUp(outputHeight, rowsPerTile) + kernelHeight - 1, top + height)
        }

        /// The same padded buffer read by the tiles of a smaller convolution: another kernel and output, whose taps
        /// and rows of tiles reach no further than this layout's.
        func reading(kernelHeight: Int, kernelWidth: Int, outputHeight: Int, outputWidth: Int) -> PaddedLayout {
            var view = self
            (view.kernelHeight, view.kernelWidth) = (kernelHeight, kernelWidth)
            (view.outputHeight, view.outputWidth) = (outputHeight, outputWidth)
            return view
        }

        var segments: Int { (outputWidth + lanes - 1) / lanes }
        var rowStride: Int { stride * phaseWidth }
        /// From one output row's inputs to the next's.
        var rowStep: Int { stride * rowStride }
        var planeStride: Int { paddedHeight * rowStride }
        var count: Int { channels * planeStride }

        /// Where the input of kernel column `j` lies from a row's start, for the first output of a vector.
        @inline(__always)
        func tapOffset(_ j: Int) -> Int { stride == 1 ? j : (j % 2) * phaseWidth + j / 2 }

        /// Copies one (C, H, W) image into `padded`, `top` rows and `left` columns in, over a padding that must be
        /// zero: each buffer is zeroed once (`count` floats) for any number of images, whose pixels land in the same
        /// places, so that an image costs only its copy.
        func copy(_ image: UnsafePointer<Float>, into padded: UnsafeMutablePointer<Float>) {
            for c in 0..<channels {
                let plane = padded + c * planeStride, source = image + c * height * width
                for y in 0..<height {
                    let row = plane + (top + y) * rowStride, pixels = source + y * width
                    if stride == 1 {
                        Elementwise.copy(pixels, row + left, count: width)
                        continue
                    }
                    // Pixel x lands in padded column left + x: the pixels of even x make one contiguous run of a
                    // phase, those of odd x one of the other, split 16 or 8 pixels at a time.
                    let even = row + tapOffset(left), odd = row + tapOffset(left + 1)
                    var x = 0
                    while x + 16 <= width {
                        let v: SIMD16<Float> = load(pixels + x)
                        store(v.evenHalf, even + x / 2)
                        store(v.oddHalf, odd + x / 2)
                        x += 16
                    }
                    if x + 8 <= width {
                        let v: SIMD8<Float> = load(pixels + x)
                        store(v.evenHalf, even + x / 2)
                        store(v.oddHalf, odd + x / 2)
                        x += 8
                    }
                    while x < width {
                        row[tapOffset(left + x)] = pixels[x]
                        x += 1
                    }
                }
            }
        }
    }

    // MARK: Entry points

    /// output = weight ⋆ input + bias for every image.
    static func forward(input: Tensor, weight: Tensor, bias: Tensor?, geometry g: WindowGeometry, output: Tensor,
                        sizes s: Convolution.Sizes, workspace: Workspace) {
        if StridedForward.applies(to: g) {
            StridedForward.forward(input: input, weight: weight, bias: bias, geometry: g, output: output, sizes: s,
                                   workspace: workspace)
            return
        }
        withVectors(outputWidth: s.outputWidth) { (vector, rows) in
            let layout = PaddedLayout(channels: s.channels, height: s.height, width: s.width, top: g.paddingHeight,
                                      left: g.paddingWidth, outputHeight: s.outputHeight, outputWidth: s.outputWidth,
                                      kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth,
                                      stride: g.strideHeight, lanes: vector, rowsPerTile: rows)
            let packedCount = roundUp(s.outputChannels, channelsPerTile) * s.patch
            let scratch = workspace.buffer(count: packedCount + ComputeThreads.count * layout.count)
            Elementwise.zero(scratch + packedCount, count: ComputeThreads.count * layout.count)
            packWeights(weight.pointer, outputs: s.outputChannels, inputs: s.channels, taps: s.patch / s.channels,
                        transposed: false, into: scratch)
            ComputeThreads.forEach(s.batch) { n, thread in
                convolve(vector, rows: rows, image: input.pointer + n * s.imageCount, layout: layout,
                         packed: scratch, bias: bias?.pointer, outputChannels: s.outputChannels,
                         output: output.pointer + n * s.outputCount,
                         padded: scratch + packedCount + thread * layout.count)
            }
        }
    }

    /// inputGradient = the convolution of the output gradient with the kernel flipped in both dimensions and with
    /// its input and output channels exchanged, at padding kernel - 1 - padding.
    static func backwardInput(outputGradient: Tensor, weight: Tensor, geometry g: WindowGeometry,
                              inputGradient: Tensor, sizes s: Convolution.Sizes, workspace: Workspace) {
        if g.strideHeight == 2 {
            StridedInputGradient.backwardInput(outputGradient: outputGradient, weight: weight, geometry: g,
                                               inputGradient: inputGradient, sizes: s, workspace: workspace)
            return
        }
        withVectors(outputWidth: s.width) { (vector, rows) in
            let layout = PaddedLayout(channels: s.outputChannels, height: s.outputHeight, width: s.outputWidth,
                                      top: g.kernelHeight - 1 - g.paddingHeight,
                                      left: g.kernelWidth - 1 - g.paddingWidth, outputHeight: s.height,
                                      outputWidth: s.width, kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth,
                                      stride: 1, lanes: vector, rowsPerTile: rows)
            let taps = g.kernelHeight * g.kernelWidth
            let packedCount = roundUp(s.channels, channelsPerTile) * s.outputChannels * taps
            let scratch = workspace.buffer(count: packedCount + ComputeThreads.count * layout.count)
            Elementwise.zero(scratch + packedCount, count: ComputeThreads.count * layout.count)
            packWeights(weight.pointer, outputs: s.outputChannels, inputs: s.channels, taps: taps, transposed: true,
                        into: scratch)
            ComputeThreads.forEach(s.batch) { n, thread in
                convolve(vector, rows: rows, image: outputGradient.pointer + n * s.outputCount, layout: layout,
                         packed: scratch, bias: nil, outputChannels: s.channels,
                         output: inputGradient.pointer + n * s.imageCount,
                         padded: scratch + packedCount + thread * layout.count)
            }
        }
    }

    /// weightGradient += the gradient of the loss with respect to the weight.
    static func backwardWeight(input: Tensor, outputGradient: Tensor, geometry g: WindowGeometry,
                               weightGradient: Tensor, sizes s: Convolution.Sizes, workspace: Workspace) {
        if StridedWeightGradient.applies(to: g) {
            StridedWeightGradient.backwardWeight(input: input, outputGradient: outputGradient, geometry: g,
                                                 weightGradient: weightGradient, sizes: s, workspace: workspace)
            return
        }
        withVectors(outputWidth: s.outputWidth) { (vector, rows) in
            let layout = PaddedLayout(channels: s.channels, height: s.height, width: s.width, top: g.paddingHeight,
                                      left: g.paddingWidth, outputHeight: s.outputHeight, outputWidth: s.outputWidth,
                                      kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth,
                                      stride: g.strideHeight, lanes: vector, rowsPerTile: 1)
            let gradientRow = layout.segments * vector
            let gradientPlane = s.outputHeight * gradientRow
            let gradientImage = roundUp(s.outputChannels, channelsPerTile) * gradientPlane
            // Images per group: the vectors of a tile are summed once per group, and one input plane and a tile's
            // gradient planes of every image of the group stay in L2.
            let perImage = (layout.planeStride + channelsPerTile * gradientPlane) * MemoryLayout<Float>.stride
            let group = max(1, min(s.batch, weightGroupBytes / perImage))
            let scratch = workspace.buffer(count: group * (layout.count + gradientImage))
            let padded = scratch, gradients = scratch + group * layout.count
            Elementwise.zero(padded, count: group * layout.count)
            for first in stride(from: 0, to: s.batch, by: group) {
                let count = min(group, s.batch - first)
                ComputeThreads.forEach(count) { i, _ in
                    layout.copy(input.pointer + (first + i) * s.imageCount, into: padded + i * layout.count)
                    // The gradient's rows padded with zeros to whole vectors, and zero planes up to a whole tile.
                    let target = gradients + i * gradientImage
                    let source = outputGradient.pointer + (first + i) * s.outputCount
                    for o in 0..<s.outputChannels {
                        for y in 0..<s.outputHeight {
                            let row = target + o * gradientPlane + y * gradientRow
                            Elementwise.copy(source + (o * s.outputHeight + y) * s.outputWidth, row,
                                             count: s.outputWidth)
                            Elementwise.zero(row + s.outputWidth, count: gradientRow - s.outputWidth)
                        }
                    }
                    Elementwise.zero(target + s.outputChannels * gradientPlane,
                                     count: gradientImage - s.outputChannels * gradientPlane)
                }
                // Threads take tiles of output channels: each writes its own rows of the weight gradient.
                ComputeThreads.forEach((s.outputChannels + channelsPerTile - 1) / channelsPerTile) { tile, _ in
                    accumulateWeightGradient(vector, padded: padded, layout: layout, gradients: gradients,
                                             gradientImage: gradientImage, gradientPlane: gradientPlane,
                                             images: count, outputChannels: s.outputChannels,
                                             outputTile: tile, weightGradient: weightGradient.pointer)
                }
            }
        }
    }

    /// Runs `body` with the vector width (16 or 8 floats) and tile height (3, 4 or 8 rows) for this CPU and output
    /// width.
    @inline(__always)
    static func withVectors(outputWidth: Int, _ body: (_ lanes: Int, _ rows: Int) -> Void) {
        if CPUFeatures.hasAVX512 {
            // Rows of at most 8 outputs fill a 16-float vector two rows at a time (`pairedTile`).
            if outputWidth <= 8 { body(8, 8) } else { body(16, 4) }
        } else {
            body(8, 3)
        }
    }

    // MARK: Forward tiles

    /// Packs the kernel for the tiles: [tile of 4 output channels][input channel][tap][4], zeros past the last
    /// output channel. Transposed, the tile's output channels are the kernel's input channels, its input channels
    /// the kernel's output channels, and the taps run backwards (the kernel flipped).
    static func packWeights(_ weight: UnsafePointer<Float>, outputs: Int, inputs: Int, taps: Int, transposed: Bool,
                            into packed: UnsafeMutablePointer<Float>) {
        let tileOutputs = transposed ? inputs : outputs, tileInputs = transposed ? outputs : inputs
        let tiles = (tileOutputs + channelsPerTile - 1) / channelsPerTile
        var p = packed
        for t in 0..<tiles {
            for c in 0..<tileInputs {
                for tap in 0..<taps {
                    for j in 0..<channelsPerTile {
                        let o = t * channelsPerTile + j
                        if o >= tileOutputs {
                            p[j] = 0
                        } else if transposed {
                            p[j] = weight[(c * inputs + o) * taps + taps - 1 - tap]
                        } else {
                            p[j] = weight[(o * inputs + c) * taps + tap]
                        }
                    }
                    p += channelsPerTile
                }
            }
        }
    }

    /// One image: copies it into `padded` (whose padding is zero), then covers the output with tiles.
    @inline(__always)
    static func convolve(_ vector: Int, rows: Int, image: UnsafePointer<Float>, layout: PaddedLayout,
                         packed: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outputChannels: Int,
                         output: UnsafeMutablePointer<Float>, padded: UnsafeMutablePointer<Float>) {
        layout.copy(image, into: padded)
        if vector == 16 {
            convolvePadded(SIMD16<Float>.self, rows: rows, layout: layout, packed: packed, bias: bias,
                           outputChannels: outputChannels, output: output, padded: padded)
        } else {
            convolvePadded(SIMD8<Float>.self, rows: rows, layout: layout, packed: packed, bias: bias,
                           outputChannels: outputChannels, output: output, padded: padded)
        }
    }

    /// Bytes of input rows a block of channels may take, so that the rows under a row of tiles stay in L1 while
    /// every output channel and column reads them.
    static let inputBlockBytes = 24 << 10

    static func convolvePadded<V: SIMD>(_: V.Type, rows rowsPerTile: Int, layout: PaddedLayout,
                                        packed: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                                        outputChannels: Int, output: UnsafeMutablePointer<Float>,
                                        padded: UnsafeMutablePointer<Float>) where V.Scalar == Float {
        let oH = layout.outputHeight, oW = layout.outputWidth, taps = layout.kernelHeight * layout.kernelWidth
        let tileWeights = layout.channels * taps * channelsPerTile
        // Channels are taken in blocks whose rows under one row of tiles fit in L1; the second block on adds to
        // the sums the first left in the output.
        let rowBytes = (layout.stride * rowsPerTile + layout.kernelHeight - 1) * layout.rowStride
            * MemoryLayout<Float>.stride
        let block = max(1, min(layout.channels, inputBlockBytes / rowBytes))
        for c0 in stride(from: 0, to: layout.channels, by: block) {
            let channels = min(block, layout.channels - c0)
            for y0 in stride(from: 0, to: oH, by: rowsPerTile) {
                for o0 in stride(from: 0, to: outputChannels, by: channelsPerTile) {
                    let outputs = min(channelsPerTile, outputChannels - o0)
                    var initial = Start.zero
                    if c0 > 0 {
                        initial = .output
                    } else if let bias {
                        initial = .bias(bias[o0], outputs > 1 ? bias[o0 + 1] : 0, outputs > 2 ? bias[o0 + 2] : 0,
                                        outputs > 3 ? bias[o0 + 3] : 0)
                    }
                    let weights = packed + o0 / channelsPerTile * tileWeights + c0 * taps * channelsPerTile
                    for x0 in stride(from: 0, to: oW, by: V.scalarCount) {
                        let target = output + (o0 * oH + y0) * oW + x0
                        let source = UnsafePointer(padded + c0 * layout.planeStride + y0 * layout.rowStep + x0)
                        if rowsPerTile == 8 {
                            pairedTile(padded: source, layout: layout, channels: channels, weights: weights,
                                       start: initial, output: target, lanes: min(8, oW - x0),
                                       rows: min(8, oH - y0), outputs: outputs)
                        } else if rowsPerTile == 4 {
                            tile(V.self, fourRows: true, padded: source, layout: layout, channels: channels,
                                 weights: weights, start: initial, output: target,
                                 lanes: min(V.scalarCount, oW - x0), rows: min(4, oH - y0), outputs: outputs)
                        } else {
                            tile(V.self, fourRows: false, padded: source, layout: layout, channels: channels,
                                 weights: weights, start: initial, output: target,
                                 lanes: min(V.scalarCount, oW - x0), rows: min(3, oH - y0), outputs: outputs)
                        }
                    }
                }
            }
        }
    }

    /// What a tile's sums start from: zero, the bias of its 4 output channels, or the output it adds to.
    enum Start {
        case zero
        case bias(Float, Float, Float, Float)
        case output
    }

    /// 4 output channels x 3 or 4 rows x one vector of columns, summed over `channels` input channels and every
    /// tap. The accumulators are named one by one: LLVM keeps them in registers only when no index reaches them.
    @inline(__always)
    static func tile<V: SIMD>(_: V.Type, fourRows: Bool, padded: UnsafePointer<Float>, layout: PaddedLayout,
                              channels: Int, weights: UnsafePointer<Float>, start: Start,
                              output: UnsafeMutablePointer<Float>, lanes: Int, rows: Int, outputs: Int)
    where V.Scalar == Float {
        let rowStride = layout.outputWidth, planeStride = layout.outputHeight * layout.outputWidth
        @inline(__always) func get(_ o: Int, _ y: Int) -> V {
            switch start {
            case .zero: return V()
            case .bias(let b0, let b1, let b2, let b3): return V(repeating: o == 0 ? b0 : o == 1 ? b1 : o == 2 ? b2 : b3)
            case .output:
                guard o < outputs && y < rows else { return V() }
                let p = output + o * planeStride + y * rowStride
                if lanes == V.scalarCount { return load(p) }
                var v = V()
                for l in 0..<lanes { v[l] = p[l] }
                return v
            }
        }
        var a00 = get(0, 0), a01 = get(0, 1), a02 = get(0, 2), a03 = fourRows ? get(0, 3) : V()
        var a10 = get(1, 0), a11 = get(1, 1), a12 = get(1, 2), a13 = fourRows ? get(1, 3) : V()
        var a20 = get(2, 0), a21 = get(2, 1), a22 = get(2, 2), a23 = fourRows ? get(2, 3) : V()
        var a30 = get(3, 0), a31 = get(3, 1), a32 = get(3, 2), a33 = fourRows ? get(3, 3) : V()
        let r = layout.rowStep
        var w = weights, plane = padded
        for _ in 0..<channels {
            var row = plane
            for _ in 0..<layout.kernelHeight {
                for j in 0..<layout.kernelWidth {
                    let p = row + layout.tapOffset(j)
                    let x0: V = load(p), x1: V = load(p + r), x2: V = load(p + 2 * r)
                    let w0 = V(repeating: w[0]), w1 = V(repeating: w[1])
                    let w2 = V(repeating: w[2]), w3 = V(repeating: w[3])
                    a00.addProduct(w0, x0); a01.addProduct(w0, x1); a02.addProduct(w0, x2)
                    a10.addProduct(w1, x0); a11.addProduct(w1, x1); a12.addProduct(w1, x2)
                    a20.addProduct(w2, x0); a21.addProduct(w2, x1); a22.addProduct(w2, x2)
                    a30.addProduct(w3, x0); a31.addProduct(w3, x1); a32.addProduct(w3, x2)
                    if fourRows {
                        let x3: V = load(p + 3 * r)
                        a03.addProduct(w0, x3); a13.addProduct(w1, x3); a23.addProduct(w2, x3); a33.addProduct(w3, x3)
                    }
                    w += channelsPerTile
                }
                row += layout.rowStride
            }
            plane += layout.planeStride
        }
        @inline(__always) func put(_ v: V, _ o: Int, _ y: Int) {
            guard o < outputs && y < rows else { return }
            let p = output + o * planeStride + y * rowStride
            if lanes == V.scalarCount {
                UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
            } else {
                for l in 0..<lanes { p[l] = v[l] }
            }
        }
        put(a00, 0, 0); put(a01, 0, 1); put(a02, 0, 2); put(a03, 0, 3)
        put(a10, 1, 0); put(a11, 1, 1); put(a12, 1, 2); put(a13, 1, 3)
        put(a20, 2, 0); put(a21, 2, 1); put(a22, 2, 2); put(a23, 2, 3)
        put(a30, 3, 0); put(a31, 3, 1); put(a32, 3, 2); put(a33, 3, 3)
    }

    /// `tile` for rows of at most 8 outputs on AVX-512: each 16-float accumulator holds 8 outputs of row y in its
    /// low half and of row y + 4 in its high half, so that a tile covers 4 output channels x 8 rows at the full
    /// vector width (half-width vectors run at half the speed on AVX-512). The input rows are loaded in halves.
    @inline(__always)
    static func pairedTile(padded: UnsafePointer<Float>, layout: PaddedLayout, channels: Int,
                           weights: UnsafePointer<Float>, start: Start, output: UnsafeMutablePointer<Float>,
                           lanes: Int, rows: Int, outputs: Int) {
        typealias V = SIMD16<Float>
        let rowStride = layout.outputWidth, planeStride = layout.outputHeight * layout.outputWidth
        @inline(__always) func half(_ o: Int, _ y: Int) -> SIMD8<Float> {
            guard o < outputs && y < rows else { return SIMD8() }
            let p = output + o * planeStride + y * rowStride
            if lanes == 8 { return load(p) }
            var v = SIMD8<Float>()
            for l in 0..<lanes { v[l] = p[l] }
            return v
        }
        @inline(__always) func get(_ o: Int, _ y: Int) -> V {
            switch start {
            case .zero: return V()
            case .bias(let b0, let b1, let b2, let b3): return V(repeating: o == 0 ? b0 : o == 1 ? b1 : o == 2 ? b2 : b3)
            case .output: return V(lowHalf: half(o, y), highHalf: half(o, y + 4))
            }
        }
        var a00 = get(0, 0), a01 = get(0, 1), a02 = get(0, 2), a03 = get(0, 3)
        var a10 = get(1, 0), a11 = get(1, 1), a12 = get(1, 2), a13 = get(1, 3)
        var a20 = get(2, 0), a21 = get(2, 1), a22 = get(2, 2), a23 = get(2, 3)
        var a30 = get(3, 0), a31 = get(3, 1), a32 = get(3, 2), a33 = get(3, 3)
        let r = layout.rowStep
        @inline(__always) func pair(_ p: UnsafePointer<Float>) -> V { V(lowHalf: load(p), highHalf: load(p + 4 * r)) }
        var w = weights, plane = padded
        for _ in 0..<channels {
            var row = plane
            for _ in 0..<layout.kernelHeight {
                for j in 0..<layout.kernelWidth {
                    let p = row + layout.tapOffset(j)
                    let x0 = pair(p), x1 = pair(p + r), x2 = pair(p + 2 * r), x3 = pair(p + 3 * r)
                    let w0 = V(repeating: w[0]), w1 = V(repeating: w[1])
                    let w2 = V(repeating: w[2]), w3 = V(repeating: w[3])
                    a00.addProduct(w0, x0); a01.addProduct(w0, x1); a02.addProduct(w0, x2); a03.addProduct(w0, x3)
                    a10.addProduct(w1, x0); a11.addProduct(w1, x1); a12.addProduct(w1, x2); a13.addProduct(w1, x3)
                    a20.addProduct(w2, x0); a21.addProduct(w2, x1); a22.addProduct(w2, x2); a23.addProduct(w2, x3)
                    a30.addProduct(w3, x0); a31.addProduct(w3, x1); a32.addProduct(w3, x2); a33.addProduct(w3, x3)
                    w += channelsPerTile
                }
                row += layout.rowStride
            }
            plane += layout.planeStride
        }
        @inline(__always) func put(_ half: SIMD8<Float>, _ o: Int, _ row: Int) {
            guard o < outputs && row < rows else { return }
            let p = output + o * planeStride + row * rowStride
            if lanes == 8 {
                store(half, p)
            } else {
                for l in 0..<lanes { p[l] = half[l] }
            }
        }
        @inline(__always) func put(_ v: V, _ o: Int, _ y: Int) {
            put(v.lowHalf, o, y)
            put(v.highHalf, o, y + 4)
        }
        put(a00, 0, 0); put(a01, 0, 1); put(a02, 0, 2); put(a03, 0, 3)
        put(a10, 1, 0); put(a11, 1, 1); put(a12, 1, 2); put(a13, 1, 3)
        put(a20, 2, 0); put(a21, 2, 1); put(a22, 2, 2); put(a23, 2, 3)
        put(a30, 3, 0); put(a31, 3, 1); put(a32, 3, 2); put(a33, 3, 3)
    }

    // MARK: Weight-gradient tiles

    /// Bytes of input and gradient planes that the images of a weight-gradient group may take.
    static let weightGroupBytes = 256 << 10

    static func accumulateWeightGradient(_ vector: Int, padded: UnsafePointer<Float>,
                                         layout: PaddedLayout, gradients: UnsafePointer<Float>, gradientImage: Int,
                                         gradientPlane: Int, images: Int, outputChannels: Int, outputTile: Int,
                                         weightGradient: UnsafeMutablePointer<Float>) {
        if vector == 16 {
            accumulateWeightGradient(SIMD16<Float>.self, padded: padded, layout: layout, gradients: gradients,
                                     gradientImage: gradientImage, gradientPlane: gradientPlane, images: images,
                                     outputChannels: outputChannels, outputTile: outputTile,
                                     weightGradient: weightGradient)
        } else {
            accumulateWeightGradient(SIMD8<Float>.self, padded: padded, layout: layout, gradients: gradients,
                                     gradientImage: gradientImage, gradientPlane: gradientPlane, images: images,
                                     outputChannels: outputChannels, outputTile: outputTile,
                                     weightGradient: weightGradient)
        }
    }

    /// weightGradient += the sums of one tile of 4 output channels (`outputTile`) over a group of images.
    static func accumulateWeightGradient<V: SIMD & LaneSum>(_: V.Type, padded: UnsafePointer<Float>, layout: PaddedLayout,
                                                  gradients: UnsafePointer<Float>, gradientImage: Int,
                                                  gradientPlane: Int, images: Int, outputChannels: Int,
                                                  outputTile: Int, weightGradient: UnsafeMutablePointer<Float>)
    where V.Scalar == Float {
        let kh = layout.kernelHeight, kw = layout.kernelWidth
        let o0 = outputTile * channelsPerTile
        // With 32 registers a tile takes two kernel rows at once (24 accumulators): each gradient load then feeds
        // 6 FMAs instead of 3.
        let rowsAtOnce = CPUFeatures.hasAVX512 ? 2 : 1
        for c in 0..<layout.channels {
            for i in stride(from: 0, to: kh, by: rowsAtOnce) {
                let rows = min(rowsAtOnce, kh - i)
                for j0 in stride(from: 0, to: kw, by: tapsPerTile) {
                    let source = padded + c * layout.planeStride + i * layout.rowStride
                    let target = gradients + o0 * gradientPlane
                    // Taps past the kernel's last column read zeros of the padding and are dropped below.
                    let taps = (layout.tapOffset(j0), layout.tapOffset(j0 + 1), layout.tapOffset(j0 + 2))
                    let sums = rows == 2
                        ? weightTile(V.self, twoRows: true, padded: source, taps: taps, layout: layout,
                                     gradients: target, gradientImage: gradientImage, gradientPlane: gradientPlane,
                                     images: images)
                        : weightTile(V.self, twoRows: false, padded: source, taps: taps, layout: layout,
                                     gradients: target, gradientImage: gradientImage, gradientPlane: gradientPlane,
                                     images: images)
                    for r in 0..<rows {
                        for o in 0..<min(channelsPerTile, outputChannels - o0) {
                            let weights = weightGradient + (((o0 + o) * layout.channels + c) * kh + i + r) * kw + j0
                            for t in 0..<min(tapsPerTile, kw - j0) {
                                weights[t] += sums[(r * channelsPerTile + o) * tapsPerTile + t]
                            }
                        }
                    }
                }
            }
        }
    }

    /// The sums over a group of images and every output position of gradient[o0 + o] x input shifted by tap
    /// (i + r, j0 + t) (`taps` locates j0, j0 + 1, j0 + 2 in a padded row), for o < 4, t < 3 and r < 2 (r = 0 only unless `twoRows`), as [(r * 4 + o) * 3 + t].
    @inline(__always)
    static func weightTile<V: SIMD & LaneSum>(_: V.Type, twoRows: Bool, padded: UnsafePointer<Float>,
                                              taps: (Int, Int, Int), layout: PaddedLayout, gradients: UnsafePointer<Float>,
                                              gradientImage: Int, gradientPlane: Int,
                                              images: Int) -> InlineArray<24, Float> where V.Scalar == Float {
        var a00 = V(), a01 = V(), a02 = V(), a10 = V(), a11 = V(), a12 = V()
        var a20 = V(), a21 = V(), a22 = V(), a30 = V(), a31 = V(), a32 = V()
        var b00 = V(), b01 = V(), b02 = V(), b10 = V(), b11 = V(), b12 = V()
        var b20 = V(), b21 = V(), b22 = V(), b30 = V(), b31 = V(), b32 = V()
        let segments = layout.segments, gradientRow = segments * V.scalarCount, r = layout.rowStride
        for n in 0..<images {
            var x = padded + n * layout.count
            var g = gradients + n * gradientImage
            for _ in 0..<layout.outputHeight {
                for s in 0..<segments {
                    let p = x + s * V.scalarCount, q = g + s * V.scalarCount
                    let g0: V = load(q), g1: V = load(q + gradientPlane)
                    let g2: V = load(q + 2 * gradientPlane), g3: V = load(q + 3 * gradientPlane)
                    let x0: V = load(p + taps.0), x1: V = load(p + taps.1), x2: V = load(p + taps.2)
                    a00.addProduct(g0, x0); a01.addProduct(g0, x1); a02.addProduct(g0, x2)
                    a10.addProduct(g1, x0); a11.addProduct(g1, x1); a12.addProduct(g1, x2)
                    a20.addProduct(g2, x0); a21.addProduct(g2, x1); a22.addProduct(g2, x2)
                    a30.addProduct(g3, x0); a31.addProduct(g3, x1); a32.addProduct(g3, x2)
                    if twoRows {
                        let y0: V = load(p + r + taps.0), y1: V = load(p + r + taps.1), y2: V = load(p + r + taps.2)
                        b00.addProduct(g0, y0); b01.addProduct(g0, y1); b02.addProduct(g0, y2)
                        b10.addProduct(g1, y0); b11.addProduct(g1, y1); b12.addProduct(g1, y2)
                        b20.addProduct(g2, y0); b21.addProduct(g2, y1); b22.addProduct(g2, y2)
                        b30.addProduct(g3, y0); b31.addProduct(g3, y1); b32.addProduct(g3, y2)
                    }
                }
                x += layout.rowStep
                g += gradientRow
            }
        }
        return [a00.laneSum, a01.laneSum, a02.laneSum, a10.laneSum, a11.laneSum, a12.laneSum,
                a20.laneSum, a21.laneSum, a22.laneSum, a30.laneSum, a31.laneSum, a32.laneSum,
                b00.laneSum, b01.laneSum, b02.laneSum, b10.laneSum, b11.laneSum, b12.laneSum,
                b20.laneSum, b21.laneSum, b22.laneSum, b30.laneSum, b31.laneSum, b32.laneSum]
    }
}

@inline(__always)
func roundUp(_ value: Int, _ multiple: Int) -> Int { (value + multiple - 1) / multiple * multiple }

/// The sum of a vector's lanes by halving it (the standard library's `sum()` walks the lanes one by one).
protocol LaneSum { var laneSum: Float { get } }

extension SIMD8: LaneSum where Scalar == Float {
    @inline(__always) var laneSum: Float {
        let quarter = lowHalf + highHalf, pair = quarter.lowHalf + quarter.highHalf
        return pair[0] + pair[1]
    }
}

extension SIMD16: LaneSum where Scalar == Float {
    @inline(__always) var laneSum: Float { (lowHalf + highHalf).laneSum }
}

extension SIMD where Scalar == Float {
    /// self += a * b in one fused multiply-add.
    @inline(__always)
    mutating func addProduct(_ a: Self, _ b: Self) { self = self.addingProduct(a, b) }
}
