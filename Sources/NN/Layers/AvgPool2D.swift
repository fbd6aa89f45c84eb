import Engine

/// Average pooling over square windows (as `nn.AvgPool2d` with count_include_pad).
public final class AvgPool2D: Layer {
    /// Window, stride and padding.
    public let geometry: WindowGeometry
    private var inputShape: [Int] = []
    private var pool = TensorPool()

    /// Pooling with a `kernel` x `kernel` window; the stride defaults to the kernel size, as in PyTorch.
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        geometry = WindowGeometry(kernel: kernel, stride: stride ?? kernel, padding: padding)
    }

    public func share(_ memory: SharedMemory) {
        pool = memory.pool
    }

    public func outputShape(for inputShapes: [[Int]]) throws(ShapeError) -> [Int] {
        try poolingOutputShape(inputShapes[0], geometry: geometry, kind: "average pooling")
    }

    // input is (N, C, H, W), output is (N, C, oH, oW)
    public func forward(_ inputs: [Tensor], context: ForwardContext) -> Tensor {
        let x = inputs[0]
        let size = geometry.outputSize(height: x.shape[2], width: x.shape[3])
        let y = pool.tensor(shape: [x.shape[0], x.shape[1], size.height, size.width])
        Pooling.averageForward(input: x, geometry: geometry, output: y)
        inputShape = x.shape
        return y
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> [Tensor] {
        guard needsInputGradient else { return [] }
        let dx = pool.tensor(shape: inputShape)
        Pooling.averageBackward(outputGradient: outputGradient, geometry: geometry, inputGradient: dx)
        return [dx]
    }
}
