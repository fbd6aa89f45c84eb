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
        let y = pool.tensor(shape: try! outputShape(for: [x.shape]))
        let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = (y.shape[2], y.shape[3])
        let pad = (outChannels - c) / 2
        // Every output element written once: the padding planes zeroed, the others gathered row by row.
        Self.forEachPlane(batch: x.shape[0], channels: outChannels, size: oh * ow) { b, o in
            let target = y.pointer + (b * outChannels + o) * oh * ow
            guard o >= pad && o < pad + c else { return Elementwise.zero(target, count: oh * ow) }
            let source = x.pointer + (b * c + o - pad) * h * w
            for i in 0..<oh { subsample(source + i * stride * w, width: w, into: target + i * ow, count: ow) }
        }
        return y
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> [Tensor] {
        guard needsInputGradient else { return [] }
        let dx = pool.tensor(shape: inputShape), dy = outputGradient
        let (c, h, w) = (inputShape[1], inputShape[2], inputShape[3])
        let (oh, ow) = (dy.shape[2], dy.shape[3])
        let pad = (outChannels - c) / 2
        // Every input element written once: the rows between the sampled ones zeroed, the others spread out.
        Self.forEachPlane(batch: inputShape[0], channels: c, size: h * w) { b, channel in
            let source = dy.pointer + (b * outChannels + channel + pad) * oh * ow
            let target = dx.pointer + (b * c + channel) * h * w
            for r in 0..<h {
                if r % stride == 0 {
                    spread(source + r / stride * ow, into: target + r * w, count: w)
                } else {
                    Elementwise.zero(target + r * w, count: w)
                }
            }
        }
        return [dx]
    }

    /// body(image, channel) for every plane of `size` elements, on the compute threads when they are worth it.
    private static func forEachPlane(batch: Int, channels: Int, size: Int, _ body: (Int, Int) -> Void) {
        ComputeThreads.forEachRange(batch * channels, grain: max(1, (1 << 15) / max(size, 1))) { planes in
            for plane in planes { body(plane / channels, plane % channels) }
        }
    }

    /// target[j] = source[j * stride] for j < count, from a row of `width` elements.
    private func subsample(_ source: UnsafePointer<Float>, width: Int, into target: UnsafeMutablePointer<Float>,
                           count: Int) {
        var j = 0
        if stride == 2 {
            while j + 8 <= count && 2 * j + 16 <= width {
                let v = UnsafeRawPointer(source + 2 * j).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(target + j).storeBytes(of: v.evenHalf, as: SIMD8<Float>.self)
                j += 8
            }
        }
        while j < count {
            target[j] = source[j * stride]
            j += 1
        }
    }

    /// target[j] = source[j / stride] where stride divides j, else 0, for j < count: `subsample`'s adjoint.
    private func spread(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int) {
        var j = 0
        if stride == 2 {
            while j + 16 <= count {
                var v = SIMD16<Float>()
                v.evenHalf = UnsafeRawPointer(source + j / 2).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(target + j).storeBytes(of: v, as: SIMD16<Float>.self)
                j += 16
            }
        }
        while j < count {
            target[j] = j % stride == 0 ? source[j / stride] : 0
            j += 1
        }
    }
}
