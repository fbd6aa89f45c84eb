import Engine

/// The parameter-free shortcut of He et al.'s CIFAR ResNets (option A): subsample by `stride`, then pad the
/// channels with zeros on both sides up to `outChannels`.
public final class ChannelPadShortcut: Layer {
    /// The number of channels after padding.
    public let outChannels: Int
    /// The spatial subsampling factor.
    public let stride: Int
    private var inputShape: [Int] = []
    private var pool = TensorPool()

    public init(outChannels: Int, stride: Int) {
        self.outChannels = outChannels
        self.stride = stride
    }

    public func share(_ memory: SharedMemory) {
        pool = memory.pool
    }

    public func outputShape(for inputShapes: [[Int]]) throws(ShapeError) -> [Int] {
        let shape = inputShapes[0]
        guard shape.count == 4, shape[1] <= outChannels, (outChannels - shape[1]) % 2 == 0 else {
            throw ShapeError("zero-padding shortcut to \(outChannels) channels cannot take \(shape)")
        }
        return [shape[0], outChannels, (shape[2] + stride - 1) / stride, (shape[3] + stride - 1) / stride]
    }

    // input is (N, C, H, W), output is (N, O, ceil(H/s), ceil(W/s)) with input channel c at c + (O - C) / 2
    public func forward(_ inputs: [Tensor], context: ForwardContext) -> Tensor {
        let x = inputs[0]
        inputShape = x.shape
        let shape = try! outputShape(for: [x.shape])
        let y = pool.tensor(shape: shape)
        y.fill(0)
        copy(x, into: y, forward: true)
        return y
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> [Tensor] {
        guard needsInputGradient else { return [] }
        let dx = pool.tensor(shape: inputShape)
        dx.fill(0)
        copy(dx, into: outputGradient, forward: false)
        return [dx]
    }

    /// Moves values between the input positions and their places in the output, in either direction.
    private func copy(_ input: Tensor, into output: Tensor, forward: Bool) {
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let (oh, ow) = (output.shape[2], output.shape[3])
        let pad = (outChannels - c) / 2
        for b in 0..<n {
            for channel in 0..<c {
                let source = input.pointer + (b * c + channel) * h * w
                let target = output.pointer + (b * outChannels + channel + pad) * oh * ow
                for i in 0..<oh {
                    for j in 0..<ow {
                        if forward {
                            target[i * ow + j] = source[i * stride * w + j * stride]
                        } else {
                            source[i * stride * w + j * stride] = target[i * ow + j]
                        }
                    }
                }
            }
        }
    }
}
