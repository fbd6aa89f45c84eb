import Engine

/// Max pooling over square windows (as `nn.MaxPool2d`: padding counts as minus infinity).
public final class MaxPool2D: Layer {
    /// Window, stride and padding.
    public let geometry: WindowGeometry
    private var inputShape: [Int] = []
    private var argmax: [Int32] = []
    private var pool = TensorPool()

    /// Pooling with a `kernel` x `kernel` window; the stride defaults to the kernel size, as in PyTorch.
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        geometry = WindowGeometry(kernel: kernel, stride: stride ?? kernel, padding: padding)
    }

    public func share(_ memory: SharedMemory) {
        pool = memory.pool
    }

    public func outputShape(for inputShapes: [[Int]]) throws(ShapeError) -> [Int] {
        try poolingOutputShape(inputShapes[0], geometry: geometry, kind: "max pooling")
    }

    // input is (N, C, H, W), output is (N, C, oH, oW)
    public func forward(_ inputs: [Tensor], context: ForwardContext) -> Tensor {
        let x = inputs[0]
        let size = geometry.outputSize(height: x.shape[2], width: x.shape[3])
        let y = pool.tensor(shape: [x.shape[0], x.shape[1], size.height, size.width])
        if argmax.count != y.count { argmax = Array(repeating: 0, count: y.count) }
        argmax.withUnsafeMutableBufferPointer {
            Pooling.maxForward(input: x, geometry: geometry, output: y, argmax: $0.baseAddress!)
        }
        inputShape = x.shape
        return y
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> [Tensor] {
        guard needsInputGradient else { return [] }
        let dx = pool.tensor(shape: inputShape)
        argmax.withUnsafeBufferPointer {
            Pooling.maxBackward(outputGradient: outputGradient, argmax: $0.baseAddress!, inputGradient: dx)
        }
        return [dx]
    }
}

/// The output shape of a pooling window over NCHW input, or an error naming the mismatch.
func poolingOutputShape(_ shape: [Int], geometry: WindowGeometry, kind: String) throws(ShapeError) -> [Int] {
    guard shape.count == 4 else { throw ShapeError("\(kind) expects [N, C, H, W], got \(shape)") }
    guard geometry.fits(height: shape[2], width: shape[3]) else {
        throw ShapeError("\(kind) window \(geometry.kernelHeight)x\(geometry.kernelWidth) does not fit \(shape[2])x\(shape[3]) inputs")
    }
    let size = geometry.outputSize(height: shape[2], width: shape[3])
    return [shape[0], shape[1], size.height, size.width]
}
