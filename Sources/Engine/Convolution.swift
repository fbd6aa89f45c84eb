/// 2-D convolution (cross-correlation, as PyTorch's `Conv2d`) on NCHW tensors with weights laid out (O, C, kh, kw):
/// by Winograd's F(4x4, 3x3) (`WinogradConvolution`) for 3x3 kernels at stride 1 on channels in whole vectors, by the
/// direct kernels of `DirectConvolution` for other small layers with kernels larger than 1x1, by the products of
/// `PointwiseConvolution` for 1x1 kernels at stride 1 and, over the image's phases (`PhasedConvolution`), for 3x3
/// kernels at stride 2, by im2col and GEMM over groups of images otherwise; each pass chooses for itself.
///
/// A group of g images is unfolded side by side into one (C*kh*kw, g*oH*oW) matrix, so that the convolution of the
/// whole group is one GEMM with the weight seen as an (O, C*kh*kw) matrix. One GEMM per image leaves small layers
/// (LeNet's, ResNet's 8x8 and 7x7 stages) far from what BLAS reaches on wide matrices; the group is sized so that
/// the GEMM is wide enough and its buffers stay modest (see `imagesPerGroup`). The GEMM's (O, g*oH*oW) result is
/// scattered into NCHW with the bias added in the same pass. A group of one image needs no scatter, and a pointwise
/// convolution (1x1, stride 1, no padding) of one image needs no unfolding: the image already is the matrix.
public enum Convolution {
    /// How a convolution is computed.
    public enum Method: Sendable, Equatable {
        /// Each pass by whichever kernels are fastest for its sizes (`WinogradConvolution.isFaster`,
        /// `PointwiseConvolution.applies`, `PointwiseWeightGradient.isFaster`, `PhasedConvolution`,
        /// `DirectConvolution.isFaster`).
        case automatic
        /// im2col and GEMM over groups of `imagesPerGroup` images (nil: as many as `imagesPerGroup(_:requested:)`
        /// chooses).
        case unfolded(imagesPerGroup: Int?)
        /// The direct kernels for every pass they apply to (`appliesDirectly(_:to:)`), unfolding for the others.
        case direct
        /// Winograd's F(4x4, 3x3) for every pass it applies to, the direct kernels or unfolding for the others.
        case winograd
        /// The pointwise products for every pass they apply to, unfolding for the others.
        case pointwise
        /// The products over phases for every pass they apply to, unfolding for the others.
        case phased

        /// The kernels that compute `pass` of a convolution of this geometry and these sizes.
        func kernels(_ pass: Pass, for geometry: WindowGeometry, sizes s: Sizes) -> Kernels {
            let winograd = WinogradConvolution.applies(pass, to: geometry, sizes: s)
            let direct = DirectConvolution.applies(pass, to: geometry)
            let pointwise = PointwiseConvolution.applies(pass, to: geometry, sizes: s)
            let phased = PhasedConvolution.applies(pass, to: geometry, sizes: s)
            switch self {
            case .automatic:
                if winograd && WinogradConvolution.isFaster(pass, sizes: s) { return .winograd }
                if pointwise && (pass != .weightGradient || PointwiseWeightGradient.isFaster) { return .pointwise }
                let directIsFaster = direct && DirectConvolution.isFaster(pass, geometry: geometry, sizes: s)
                // The products over phases beat the GEMM wherever they apply, and the direct input gradient; the
                // strided forward kernels beat them up to 128 channels (`PhasedConvolution`).
                if phased && (pass == .inputGradient || !directIsFaster) { return .phased }
                return directIsFaster ? .direct : .unfolded
            case .unfolded: return .unfolded
            case .direct: return direct ? .direct : .unfolded
            case .winograd: return winograd ? .winograd : direct ? .direct : .unfolded
            case .pointwise: return pointwise ? .pointwise : .unfolded
            case .phased: return phased ? .phased : .unfolded
            }
        }

        /// The images per GEMM asked for, when unfolded.
        var imagesPerGroup: Int? {
            if case .unfolded(let images) = self { return images }
            return nil
        }
    }

    /// The kernels of one pass.
    enum Kernels { case winograd, direct, pointwise, phased, unfolded }

    /// The three passes of a convolution, which may each take the direct kernels or the GEMM.
    public enum Pass: Sendable { case forward, inputGradient, weightGradient }

    /// Whether the direct kernels compute this pass of this geometry: a kernel larger than 1x1, padding smaller than
    /// the kernel, stride 1 or 2.
    public static func appliesDirectly(_ pass: Pass, to geometry: WindowGeometry) -> Bool {
        DirectConvolution.applies(pass, to: geometry)
    }

    /// The sizes of a convolution, checked against each other.
    struct Sizes {
        let batch: Int, channels: Int, height: Int, width: Int
        let outputChannels: Int, outputHeight: Int, outputWidth: Int
        /// C*kh*kw, the rows of the unfolded image.
        let patch: Int
        /// oH*oW, the output positions of one image.
        var positions: Int { outputHeight * outputWidth }
        var imageCount: Int { channels * height * width }

        /// Whether the one window covers the whole image, without padding (LeNet-5's conv3): the convolution is
        /// then a fully connected layer, whose unfolded matrix is the batch itself, transposed.
        func coversWholeImage(_ g: WindowGeometry) -> Bool {
            g.kernelHeight == height && g.kernelWidth == width && g.paddingHeight == 0 && g.paddingWidth == 0
        }
        var outputCount: Int { outputChannels * positions }

        init(function: String, input: [Int], weight: [Int], output: [Int], geometry: WindowGeometry) {
            precondition(input.count == 4, "Convolution.\(function): input \(input) must be (N,C,H,W)")
            precondition(weight.count == 4 && weight[1] == input[1] && weight[2] == geometry.kernelHeight
                            && weight[3] == geometry.kernelWidth,
                         "Convolution.\(function): weight \(weight) must be (O,\(input[1]),\(geometry.kernelHeight),"
                            + "\(geometry.kernelWidth)) for input \(input)")
            let (oH, oW) = geometry.outputSize(height: input[2], width: input[3])
            precondition(output == [input[0], weight[0], oH, oW],
                         "Convolution.\(function): output \(output) must be \([input[0], weight[0], oH, oW]) "
                            + "for input \(input) and weight \(weight)")
            batch = input[0]
            channels = input[1]
            height = input[2]
            width = input[3]
            outputChannels = weight[0]
            outputHeight = oH
            outputWidth = oW
            patch = weight[1] * weight[2] * weight[3]
        }
    }

    /// GEMMs narrower than this many columns run well below BLAS's speed on wide ones.
    static let targetColumns = 1024
    /// Group buffers never exceed this many elements (16 MB) unless one image alone needs more.
    static let maximumElements = 1 << 22

    /// The number of images unfolded into one GEMM: enough for `targetColumns` columns, never more than
    /// `maximumElements` of buffers, and at least one group per compute thread; groups are then evened out so that
    /// the last one is not a remnant. (Wider groups measured slower on LeNet-5: the unfolded matrix then leaves the
    /// cache before the GEMM reads it.)
    static func imagesPerGroup(_ s: Sizes, requested: Int?) -> Int {
        if let requested {
            precondition(requested > 0, "Convolution: \(requested) images per group must be positive")
            return min(requested, max(s.batch, 1))
        }
        let perImage = (s.patch + s.outputChannels) * s.positions
        let wide = (targetColumns + s.positions - 1) / max(s.positions, 1)
        let perThread = (s.batch + ComputeThreads.count - 1) / ComputeThreads.count
        let group = max(1, min(perThread, wide, maximumElements / max(perImage, 1)))
        let groups = (s.batch + group - 1) / group
        return max(1, (s.batch + groups - 1) / max(groups, 1))
    }

    /// Unfolds images [first, first + count) of `input` side by side into `columns`, a (C*kh*kw, count*oH*oW)
    /// matrix.
    static func unfold(_ input: Tensor, images first: Int, count: Int, sizes s: Sizes, geometry: WindowGeometry,
                       columns: UnsafeMutablePointer<Float>) {
        for i in 0..<count {
            Im2col.im2col(image: input.pointer + (first + i) * s.imageCount, channels: s.channels, height: s.height,
                          width: s.width, geometry: geometry, columns: columns + i * s.positions,
                          rowStride: count * s.positions)
        }
    }

    /// output = weight ⋆ input + bias, overwriting `output`.
    ///
    /// `method` chooses the kernels (tests compare them); the default picks by the geometry.
    public static func forward(input: Tensor, weight: Tensor, bias: Tensor?, geometry: WindowGeometry,
                               output: Tensor, workspace: Workspace, method: Method = .automatic) {
        // input is (N,C,H,W), weight is (O,C,kh,kw), bias is (O), output is (N,O,oH,oW)
        let s = Sizes(function: "forward", input: input.shape, weight: weight.shape, output: output.shape,
                      geometry: geometry)
        if let bias {
            precondition(bias.shape == [s.outputChannels],
                         "Convolution.forward: bias \(bias.shape) must be [\(s.outputChannels)]")
        }
        switch method.kernels(.forward, for: geometry, sizes: s) {
        case .winograd:
            WinogradConvolution.forward(input: input, weight: weight, bias: bias, geometry: geometry, output: output,
                                        sizes: s, workspace: workspace)
            return
        case .direct:
            DirectConvolution.forward(input: input, weight: weight, bias: bias, geometry: geometry, output: output,
                                      sizes: s, workspace: workspace)
            return
        case .pointwise:
            PointwiseConvolution.forward(input: input, weight: weight, bias: bias, output: output, sizes: s,
                                         workspace: workspace)
            return
        case .phased:
            PhasedConvolution.forward(input: input, weight: weight, bias: bias, output: output, sizes: s,
                                      workspace: workspace)
            return
        case .unfolded: break
        }
        if s.coversWholeImage(geometry) {
            // (N, C*kh*kw) x (C*kh*kw, O) -> (N, O): the images are the rows of the unfolded matrix already.
            gemm(.none, .transposed, m: s.batch, n: s.outputChannels, k: s.patch, a: input.pointer, b: weight.pointer,
                 c: output.pointer)
            if let bias {
                for n in 0..<s.batch {
                    Elementwise.addInPlace(output.pointer + n * s.outputChannels, bias.pointer, count: s.outputChannels)
                }
            }
            return
        }
        let group = imagesPerGroup(s, requested: method.imagesPerGroup)
        let columnsCount = geometry.isPointwise && group == 1 ? 0 : s.patch * group * s.positions
        let resultCount = group == 1 ? 0 : s.outputChannels * group * s.positions
        let products = ProductWeight(rows: s.outputChannels, depth: s.patch, transposed: false)
        let perThread = columnsCount + resultCount + products.scratchCount
        let scratch = workspace.buffer(count: products.packedCount + ComputeThreads.count * perThread)
        products.pack(weight.pointer, into: scratch)
        // Groups run on the compute threads, each with its own unfolded matrix and result.
        ComputeThreads.forEach((s.batch + group - 1) / group) { index, thread in
            let first = index * group, count = min(group, s.batch - first)
            let columns = scratch + products.packedCount + thread * perThread, result = columns + columnsCount
            let productScratch = result + resultCount
            let image = UnsafePointer(input.pointer + first * s.imageCount)
            let matrix: UnsafePointer<Float>
            if geometry.isPointwise && count == 1 {
                matrix = image
            } else {
                unfold(input, images: first, count: count, sizes: s, geometry: geometry, columns: columns)
                matrix = UnsafePointer(columns)
            }
            let destination = output.pointer + first * s.outputCount
            if count == 1 {
                // (O, C*kh*kw) x (C*kh*kw, oH*oW) -> (O, oH*oW), already one image of NCHW.
                products.multiply(weight: weight.pointer, scratch, columns: s.positions, matrix, into: destination,
                                  scratch: productScratch)
                if let bias {
                    Elementwise.addChannelBias(destination, bias: bias.pointer, batch: 1,
                                               channels: s.outputChannels, spatial: s.positions)
                }
            } else {
                // (O, C*kh*kw) x (C*kh*kw, g*oH*oW) -> (O, g*oH*oW), then scattered to (g, O, oH*oW) + bias.
                products.multiply(weight: weight.pointer, scratch, columns: count * s.positions, matrix, into: result,
                                  scratch: productScratch)
                for i in 0..<count {
                    for o in 0..<s.outputChannels {
                        let source = result + (o * count + i) * s.positions
                        let target = destination + i * s.outputCount + o * s.positions
                        if let bias {
                            let b = bias.pointer[o]
                            Elementwise.map(source, target, count: s.positions, { $0 + b }, { $0 + b })
                        } else {
                            Elementwise.copy(source, target, count: s.positions)
                        }
                    }
                }
            }
        }
    }

    /// inputGradient = the gradient of the loss with respect to the input, overwriting `inputGradient`.
    public static func backwardInput(outputGradient: Tensor, weight: Tensor, geometry: WindowGeometry,
                                     inputGradient: Tensor, workspace: Workspace, method: Method = .automatic) {
        // outputGradient is (N,O,oH,oW), weight is (O,C,kh,kw), inputGradient is (N,C,H,W)
        let s = Sizes(function: "backwardInput", input: inputGradient.shape, weight: weight.shape,
                      output: outputGradient.shape, geometry: geometry)
        backward(sizes: s, input: nil, outputGradient: outputGradient, weight: weight, geometry: geometry,
                 weightGradient: nil, biasGradient: nil, inputGradient: inputGradient, workspace: workspace,
                 method: method)
    }

    /// weightGradient += the gradient of the loss with respect to the weight, and biasGradient += the gradient with
    /// respect to the bias (the output gradient summed over the batch and the positions).
    public static func backwardWeight(input: Tensor, outputGradient: Tensor, geometry: WindowGeometry,
                                      weightGradient: Tensor, biasGradient: Tensor?, workspace: Workspace,
                                      method: Method = .automatic) {
        // input is (N,C,H,W), outputGradient is (N,O,oH,oW), weightGradient is (O,C,kh,kw), biasGradient is (O)
        let s = Sizes(function: "backwardWeight", input: input.shape, weight: weightGradient.shape,
                      output: outputGradient.shape, geometry: geometry)
        backward(sizes: s, input: input, outputGradient: outputGradient, weight: nil, geometry: geometry,
                 weightGradient: weightGradient, biasGradient: biasGradient, inputGradient: nil,
                 workspace: workspace, method: method)
    }

    /// Both gradients in one pass over the groups, so that each group's output gradient is gathered once for the
    /// two GEMMs: weightGradient += (and biasGradient +=) as `backwardWeight`, inputGradient = (when given) as
    /// `backwardInput`.
    public static func backward(input: Tensor, outputGradient: Tensor, weight: Tensor, geometry: WindowGeometry,
                                weightGradient: Tensor, biasGradient: Tensor?, inputGradient: Tensor?,
                                workspace: Workspace, method: Method = .automatic) {
        // input is (N,C,H,W), outputGradient is (N,O,oH,oW), weight is (O,C,kh,kw), inputGradient is (N,C,H,W)
        let s = Sizes(function: "backward", input: input.shape, weight: weight.shape, output: outputGradient.shape,
                      geometry: geometry)
        precondition(weightGradient.shape == weight.shape,
                     "Convolution.backward: weight gradient \(weightGradient.shape) must be \(weight.shape)")
        if let inputGradient {
            precondition(inputGradient.shape == input.shape,
                         "Convolution.backward: input gradient \(inputGradient.shape) must be \(input.shape)")
        }
        backward(sizes: s, input: input, outputGradient: outputGradient, weight: weight, geometry: geometry,
                 weightGradient: weightGradient, biasGradient: biasGradient, inputGradient: inputGradient,
                 workspace: workspace, method: method)
    }

    /// The backward passes, direct or unfolded, and the bias gradient. Unfolded, they go group by group: the output
    /// gradient of a group gathered into (O, g*oH*oW), the input unfolded for the weight gradient, and the unfolded
    /// input gradient computed into the same columns (the weight GEMM has consumed them) and folded back image by
    /// image.
    static func backward(sizes s: Sizes, input: Tensor?, outputGradient: Tensor, weight: Tensor?,
                         geometry: WindowGeometry, weightGradient: Tensor?, biasGradient: Tensor?,
                         inputGradient: Tensor?, workspace: Workspace, method: Method) {
        if let biasGradient {
            precondition(biasGradient.shape == [s.outputChannels],
                         "Convolution.backwardWeight: bias gradient \(biasGradient.shape) must be [\(s.outputChannels)]")
        }
        let weightKernels = method.kernels(.weightGradient, for: geometry, sizes: s)
        let inputKernels = method.kernels(.inputGradient, for: geometry, sizes: s)
        if s.coversWholeImage(geometry) {
            if let weightGradient, let input {
                // (O, N) x (N, C*kh*kw) -> (O, C*kh*kw), accumulated.
                gemm(.transposed, .none, m: s.outputChannels, n: s.patch, k: s.batch, a: outputGradient.pointer,
                     b: input.pointer, beta: 1, c: weightGradient.pointer)
            }
            if let inputGradient, let weight {
                // (N, O) x (O, C*kh*kw) -> (N, C*kh*kw)
                gemm(.none, .none, m: s.batch, n: s.patch, k: s.outputChannels, a: outputGradient.pointer,
                     b: weight.pointer, c: inputGradient.pointer)
            }
        } else {
            // What the GEMM computes: the gradients asked for that no kernels of their own compute.
            let unfoldedWeight = weightKernels == .unfolded ? weightGradient : nil
            let unfoldedInput = inputKernels == .unfolded ? inputGradient : nil
            if unfoldedWeight != nil || unfoldedInput != nil {
                unfoldedBackward(sizes: s, input: input, outputGradient: outputGradient, weight: weight,
                                 geometry: geometry, weightGradient: unfoldedWeight, inputGradient: unfoldedInput,
                                 workspace: workspace, method: method)
            }
            // Both gradients by Winograd take one sweep over the output gradient where `fusesBackward` holds.
            var fusedInputGradient: (weight: Tensor, target: Tensor)?
            if weightKernels == .winograd && inputKernels == .winograd,
               WinogradConvolution.fusesBackward(geometry, sizes: s), input != nil, weightGradient != nil,
               let inputGradient, let weight {
                fusedInputGradient = (weight, inputGradient)
            }
            if let weightGradient, let input {
                switch weightKernels {
                case .winograd:
                    WinogradConvolution.backwardWeight(input: input, outputGradient: outputGradient,
                                                       geometry: geometry, weightGradient: weightGradient,
                                                       inputGradient: fusedInputGradient, sizes: s,
                                                       workspace: workspace)
                case .direct:
                    DirectConvolution.backwardWeight(input: input, outputGradient: outputGradient, geometry: geometry,
                                                     weightGradient: weightGradient, sizes: s, workspace: workspace)
                case .pointwise:
                    PointwiseWeightGradient.accumulate(input: input, outputGradient: outputGradient,
                                                       weightGradient: weightGradient, sizes: s, workspace: workspace)
                case .phased, .unfolded: break
                }
            }
            if let inputGradient, let weight, fusedInputGradient == nil {
                switch inputKernels {
                case .winograd:
                    WinogradConvolution.backwardInput(outputGradient: outputGradient, weight: weight,
                                                      geometry: geometry, inputGradient: inputGradient, sizes: s,
                                                      workspace: workspace)
                case .direct:
                    DirectConvolution.backwardInput(outputGradient: outputGradient, weight: weight, geometry: geometry,
                                                    inputGradient: inputGradient, sizes: s, workspace: workspace)
                case .pointwise:
                    PointwiseConvolution.backwardInput(outputGradient: outputGradient, weight: weight,
                                                       inputGradient: inputGradient, sizes: s, workspace: workspace)
                case .phased:
                    PhasedConvolution.backwardInput(outputGradient: outputGradient, weight: weight,
                                                    inputGradient: inputGradient, sizes: s, workspace: workspace)
                case .unfolded: break
                }
            }
        }
        if let biasGradient {
            let sums = workspace.buffer(count: s.outputChannels)
            Reduction.channelSums(outputGradient.pointer, batch: s.batch, channels: s.outputChannels,
                                  spatial: s.positions, into: sums)
            Elementwise.addInPlace(biasGradient.pointer, sums, count: s.outputChannels)
        }
    }

    /// The unfolded backward passes group by group (see `backward(sizes:...)`). The groups are dealt to the
    /// compute threads in turn (task t takes groups t, t + tasks, ...); task 0 accumulates the weight gradient in
    /// place, the others into buffers of their own that are added in task order at the end, so that the result
    /// depends on the number of threads but not on their timing.
    static func unfoldedBackward(sizes s: Sizes, input: Tensor?, outputGradient: Tensor, weight: Tensor?,
                                 geometry: WindowGeometry, weightGradient: Tensor?, inputGradient: Tensor?,
                                 workspace: Workspace, method: Method) {
        let requested = method.imagesPerGroup
        // A pointwise weight gradient alone reads each image in place for a GEMM of its own: gathering images into
        // copies for wider GEMMs measured slower (ResNet-50's 28x28 to 7x7 1x1 layers, alternating in one
        // process: 85-116 GFLOP/s grouped, 100-143 image by image).
        let inPlace = geometry.isPointwise && inputGradient == nil && requested == nil
        let group = inPlace ? 1 : imagesPerGroup(s, requested: requested)
        let groups = (s.batch + group - 1) / group, tasks = min(groups, ComputeThreads.count)
        let columnsCount = geometry.isPointwise && group == 1 ? 0 : s.patch * group * s.positions
        let gatheredCount = group == 1 ? 0 : s.outputChannels * group * s.positions
        let partialCount = weightGradient == nil ? 0 : s.outputChannels * s.patch
        // The weight gradient's own product where it applies, unless the automatic choice prefers the GEMM.
        let ownProduct = weightGradient != nil
            && PointwiseWeightGradient.applies(rows: s.outputChannels, depth: s.patch)
            && (method != .automatic || PointwiseWeightGradient.isFaster)
        let panelCount = ownProduct ? PointwiseWeightGradient.panelCount : 0
        // The input gradient's product: (C*kh*kw, O) = weightᵀ.
        let products = ProductWeight(rows: inputGradient == nil ? 0 : s.patch, depth: s.outputChannels, transposed: true)
        let perTask = columnsCount + gatheredCount + partialCount + products.scratchCount + panelCount
        let scratch = workspace.buffer(count: products.packedCount + tasks * perTask)
        if let weight { products.pack(weight.pointer, into: scratch) }
        let packed = UnsafePointer(scratch)
        ComputeThreads.forEach(tasks) { task, _ in
            let columns = scratch + products.packedCount + task * perTask, gathered = columns + columnsCount
            let partial = gathered + gatheredCount, productScratch = partial + partialCount
            let panel = ownProduct ? productScratch + products.scratchCount : nil
            if task > 0 { Elementwise.zero(partial, count: partialCount) }
            for index in stride(from: task, to: groups, by: tasks) {
                let first = index * group, count = min(group, s.batch - first)
                backwardGroup(sizes: s, first: first, count: count, input: input, outputGradient: outputGradient,
                              weight: weight, geometry: geometry,
                              weightGradient: task == 0 ? weightGradient?.pointer : partial,
                              inputGradient: inputGradient, columns: columns, gathered: gathered,
                              products: products, packed: packed, productScratch: productScratch, panel: panel)
            }
        }
        if let weightGradient {
            for task in 1..<max(tasks, 1) {
                Elementwise.addInPlace(weightGradient.pointer,
                                       scratch + products.packedCount + task * perTask + columnsCount + gatheredCount,
                                       count: partialCount)
            }
        }
    }

    /// The backward passes of images [first, first + count), one group: weightGradient += (when given),
    /// inputGradient = (when given).
    static func backwardGroup(sizes s: Sizes, first: Int, count: Int, input: Tensor?, outputGradient: Tensor,
                              weight: Tensor?, geometry: WindowGeometry, weightGradient: UnsafeMutablePointer<Float>?,
                              inputGradient: Tensor?, columns: UnsafeMutablePointer<Float>,
                              gathered: UnsafeMutablePointer<Float>, products: ProductWeight,
                              packed: UnsafePointer<Float>, productScratch: UnsafeMutablePointer<Float>,
                              panel: UnsafeMutablePointer<Float>?) {
        let width = count * s.positions
        let gradient: UnsafePointer<Float>
        if count == 1 {
            gradient = UnsafePointer(outputGradient.pointer + first * s.outputCount)
        } else {
            // (g, O, oH*oW) -> (O, g*oH*oW)
            for i in 0..<count {
                for o in 0..<s.outputChannels {
                    Elementwise.copy(outputGradient.pointer + (first + i) * s.outputCount + o * s.positions,
                                     gathered + (o * count + i) * s.positions, count: s.positions)
                }
            }
            gradient = UnsafePointer(gathered)
        }
        if let weightGradient, let input {
            let matrix: UnsafePointer<Float>
            if geometry.isPointwise && count == 1 {
                matrix = UnsafePointer(input.pointer + first * s.imageCount)
            } else {
                unfold(input, images: first, count: count, sizes: s, geometry: geometry, columns: columns)
                matrix = UnsafePointer(columns)
            }
            // (O, g*oH*oW) x (g*oH*oW, C*kh*kw) -> (O, C*kh*kw), accumulated over the groups.
            if let panel {
                let operands = PointwiseWeightGradient.Operands(
                    images: 1, positions: width, rows: s.outputChannels, depth: s.patch, source: matrix,
                    sourceStride: 0, gradient: gradient, gradientStride: 0)
                PointwiseWeightGradient.accumulate(operands, into: weightGradient, scratch: panel)
            } else {
                gemm(.none, .transposed, m: s.outputChannels, n: s.patch, k: width,
                     a: gradient, b: matrix, beta: 1, c: weightGradient)
            }
        }
        if let inputGradient, let weight {
            let images = inputGradient.pointer + first * s.imageCount
            if geometry.isPointwise && count == 1 {
                // (C, O) x (O, oH*oW) -> (C, oH*oW), the image's gradient itself.
                products.multiply(weight: weight.pointer, packed, columns: width, gradient, into: images,
                                  scratch: productScratch)
            } else {
                // (C*kh*kw, O) x (O, g*oH*oW) -> (C*kh*kw, g*oH*oW), the gradient of the unfolded images.
                products.multiply(weight: weight.pointer, packed, columns: width, gradient, into: columns,
                                  scratch: productScratch)
                images.update(repeating: 0, count: count * s.imageCount)
                for i in 0..<count {
                    Im2col.col2im(columns: columns + i * s.positions, channels: s.channels, height: s.height,
                                  width: s.width, geometry: geometry, image: images + i * s.imageCount,
                                  rowStride: width)
                }
            }
        }
    }
}

/// The weight's side of the unfolded GEMMs: `rows` x `depth`, packed for the pointwise products when its rows fill
/// their register tiles and it fits in L2 beside a panel, or when OpenBLAS runs its AVX2 kernels (on an AVX-512 CPU
/// they may be all it knows, or all `OPENBLAS_CORETYPE` allows), multiplied by OpenBLAS otherwise. The products
/// read the unfolded images in place where OpenBLAS packs them again: alternating in one process, ResNet-20's
/// strided layers ran 41-51 GFLOP/s against 28-50 forward (the input gradient about even), ResNet-50's 128-channel
/// one 76-93 against 86 (Sapphire Rapids, OpenBLAS's Cooperlake kernels). A weight larger than a block of the
/// products is taken a block of rows at a time over all the panels. ResNet-50's strided 1x1 layers with 512 and
/// 1024 input channels, Zen 5, calls alternating in one process: forward 174-184 against 107 GFLOP/s with OpenBLAS's
/// Haswell kernels, input gradient 162-173 against 97-105; OpenBLAS's SkylakeX kernels ran 188-197 and the products
/// 178-196, so with AVX-512 kernels OpenBLAS keeps these. (The weight gradient takes `PointwiseWeightGradient` where
/// it applies.)
struct ProductWeight {
    let rows: Int, depth: Int
    /// Whether the rows are the weight's columns: the weight (depth, rows) is used transposed.
    let transposed: Bool
    let usesProducts: Bool

    init(rows: Int, depth: Int, transposed: Bool) {
        self.rows = rows
        self.depth = depth
        self.transposed = transposed
        usesProducts = rows > 0 && rows % PointwiseConvolution.Product.tileRows == 0
            && (rows * depth <= 1 << 18 || !BLAS.hasAVX512Kernels)
    }

    private func product(columns: Int) -> PointwiseConvolution.Product {
        PointwiseConvolution.Product(rows: rows, depth: depth, columns: columns)
    }
    /// Floats of the packed weight (none for OpenBLAS).
    var packedCount: Int { usesProducts ? rows * depth : 0 }
    /// Floats of scratch one product needs.
    var scratchCount: Int { usesProducts ? product(columns: 0).scratchCount : 0 }

    /// Packs the weight, (rows, depth) or, transposed, (depth, rows).
    func pack(_ weight: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>) {
        if usesProducts {
            product(columns: 0).pack(weight, rowStride: transposed ? 1 : depth, depthStride: transposed ? rows : 1,
                                     into: packed)
        }
    }

    /// target (rows, columns) = A matrix (depth, columns), A the weight as packed; OpenBLAS reads `weight` itself.
    func multiply(weight: UnsafePointer<Float>, _ packed: UnsafePointer<Float>, columns: Int,
                  _ matrix: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>,
                  scratch: UnsafeMutablePointer<Float>) {
        if usesProducts {
            let blocks = rows * depth * MemoryLayout<Float>.stride > PointwiseConvolution.Product.weightBlockBytes
            product(columns: columns).run(packed: packed, bias: nil, images: 1, source: matrix, sourceStride: 0,
                                          target: target, targetStride: 0, scratch: scratch, blocksWeight: blocks)
        } else {
            gemm(transposed ? .transposed : .none, .none, m: rows, n: columns, k: depth, a: weight,
                 b: matrix, c: target)
        }
    }
}
