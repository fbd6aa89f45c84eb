/// 2-D convolution (cross-correlation, as PyTorch's `Conv2d`) on NCHW tensors with weights laid out (O, C, kh, kw),
/// by im2col and GEMM.
///
/// Each image is unfolded into a (C*kh*kw, oH*oW) matrix so that the convolution is one GEMM with the weight seen as
/// an (O, C*kh*kw) matrix. A pointwise convolution (1x1, stride 1, no padding) skips the unfolding: the image already
/// is that matrix.
public enum Convolution {
    /// The sizes of a convolution, checked against each other.
    struct Sizes {
        let batch: Int, channels: Int, height: Int, width: Int
        let outputChannels: Int, outputHeight: Int, outputWidth: Int
        /// C*kh*kw, the rows of the unfolded image.
        let patch: Int
        /// oH*oW, the output positions of one image.
        var positions: Int { outputHeight * outputWidth }
        var imageCount: Int { channels * height * width }
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

    /// Image `n` of `input` as the (C*kh*kw, oH*oW) matrix of its windows: unfolded into `columns`, or, for a
    /// pointwise convolution (`columns` nil), the image itself.
    static func unfold(_ input: Tensor, image n: Int, sizes s: Sizes, geometry: WindowGeometry,
                       columns: UnsafeMutablePointer<Float>?) -> UnsafePointer<Float> {
        let image = UnsafePointer(input.pointer + n * s.imageCount)
        guard let columns else { return image }
        Im2col.im2col(image: image, channels: s.channels, height: s.height, width: s.width, geometry: geometry,
                      columns: columns)
        return UnsafePointer(columns)
    }

    /// output = weight ⋆ input + bias, overwriting `output`.
    public static func forward(input: Tensor, weight: Tensor, bias: Tensor?, geometry: WindowGeometry,
                               output: Tensor, workspace: Workspace) {
        // input is (N,C,H,W), weight is (O,C,kh,kw), bias is (O), output is (N,O,oH,oW)
        let s = Sizes(function: "forward", input: input.shape, weight: weight.shape, output: output.shape,
                      geometry: geometry)
        if let bias {
            precondition(bias.shape == [s.outputChannels],
                         "Convolution.forward: bias \(bias.shape) must be [\(s.outputChannels)]")
        }
        let columns = geometry.isPointwise ? nil : workspace.buffer(count: s.patch * s.positions)
        for n in 0..<s.batch {
            let matrix = unfold(input, image: n, sizes: s, geometry: geometry, columns: columns)
            // (O, C*kh*kw) x (C*kh*kw, oH*oW) -> (O, oH*oW)
            gemm(.none, .none, m: s.outputChannels, n: s.positions, k: s.patch,
                 a: weight.pointer, b: matrix, c: output.pointer + n * s.outputCount)
        }
        if let bias {
            Elementwise.addChannelBias(output.pointer, bias: bias.pointer, batch: s.batch,
                                       channels: s.outputChannels, spatial: s.positions)
        }
    }

    /// inputGradient = the gradient of the loss with respect to the input, overwriting `inputGradient`.
    public static func backwardInput(outputGradient: Tensor, weight: Tensor, geometry: WindowGeometry,
                                     inputGradient: Tensor, workspace: Workspace) {
        // outputGradient is (N,O,oH,oW), weight is (O,C,kh,kw), inputGradient is (N,C,H,W)
        let s = Sizes(function: "backwardInput", input: inputGradient.shape, weight: weight.shape,
                      output: outputGradient.shape, geometry: geometry)
        let columns = geometry.isPointwise ? nil : workspace.buffer(count: s.patch * s.positions)
        for n in 0..<s.batch {
            let image = inputGradient.pointer + n * s.imageCount
            // (C*kh*kw, O) x (O, oH*oW) -> (C*kh*kw, oH*oW), the gradient of the unfolded image.
            gemm(.transposed, .none, m: s.patch, n: s.positions, k: s.outputChannels,
                 a: weight.pointer, b: outputGradient.pointer + n * s.outputCount, c: columns ?? image)
            if let columns {
                image.update(repeating: 0, count: s.imageCount)
                Im2col.col2im(columns: columns, channels: s.channels, height: s.height, width: s.width,
                              geometry: geometry, image: image)
            }
        }
    }

    /// weightGradient += the gradient of the loss with respect to the weight, and biasGradient += the gradient with
    /// respect to the bias (the output gradient summed over the batch and the positions).
    public static func backwardWeight(input: Tensor, outputGradient: Tensor, geometry: WindowGeometry,
                                      weightGradient: Tensor, biasGradient: Tensor?, workspace: Workspace) {
        // input is (N,C,H,W), outputGradient is (N,O,oH,oW), weightGradient is (O,C,kh,kw), biasGradient is (O)
        let s = Sizes(function: "backwardWeight", input: input.shape, weight: weightGradient.shape,
                      output: outputGradient.shape, geometry: geometry)
        if let biasGradient {
            precondition(biasGradient.shape == [s.outputChannels],
                         "Convolution.backwardWeight: bias gradient \(biasGradient.shape) must be [\(s.outputChannels)]")
        }
        let columns = geometry.isPointwise ? nil : workspace.buffer(count: s.patch * s.positions)
        for n in 0..<s.batch {
            let matrix = unfold(input, image: n, sizes: s, geometry: geometry, columns: columns)
            // (O, oH*oW) x (oH*oW, C*kh*kw) -> (O, C*kh*kw), accumulated over the batch by beta = 1.
            gemm(.none, .transposed, m: s.outputChannels, n: s.patch, k: s.positions,
                 a: outputGradient.pointer + n * s.outputCount, b: matrix, beta: 1, c: weightGradient.pointer)
        }
        if let biasGradient {
            for o in 0..<s.outputChannels {
                var total: Float = 0
                for n in 0..<s.batch {
                    total += Reduction.sum(outputGradient.pointer + n * s.outputCount + o * s.positions,
                                           count: s.positions)
                }
                biasGradient.pointer[o] += total
            }
        }
    }
}
