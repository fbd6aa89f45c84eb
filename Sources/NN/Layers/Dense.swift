import Engine

/// A fully connected layer: y = x W^T + b, with W [out, in] as in `nn.Linear`.
public final class Dense: Layer {
    /// The number of input features.
    public let inFeatures: Int
    /// The number of output features.
    public let outFeatures: Int
    /// Whether the layer adds a bias.
    public let hasBias: Bool
    private let weightInitializer: Initializer
    private let biasInitializer: Initializer

    private var weight = Tensor(zeros: [0]), weightGradient = Tensor(zeros: [0])
    private var bias: Tensor?, biasGradient: Tensor?
    private var input: Tensor?
    private let workspace = Workspace()
    private var pool = TensorPool()

    /// A layer from `inFeatures` to `outFeatures`, initialised as PyTorch does unless told otherwise.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true,
                weightInitializer: Initializer? = nil, biasInitializer: Initializer? = nil) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.hasBias = bias
        self.weightInitializer = weightInitializer ?? .torchDefault(fanIn: inFeatures)
        self.biasInitializer = biasInitializer ?? .torchDefault(fanIn: inFeatures)
    }

    public func share(_ memory: SharedMemory) {
        pool = memory.pool
    }

    public var parameterSpecs: [ParameterSpec] {
        [ParameterSpec(name: "weight", shape: [outFeatures, inFeatures], initializer: weightInitializer, role: .weight)]
            + (hasBias ? [ParameterSpec(name: "bias", shape: [outFeatures], initializer: biasInitializer, role: .bias)] : [])
    }

    public func bind(parameters: [Tensor], gradients: [Tensor], buffers: [Tensor]) {
        weight = parameters[0]
        weightGradient = gradients[0]
        if hasBias {
            bias = parameters[1]
            biasGradient = gradients[1]
        }
    }

    public func outputShape(for inputShapes: [[Int]]) throws(ShapeError) -> [Int] {
        let shape = inputShapes[0]
        guard shape.count == 2, shape[1] == inFeatures else {
            throw ShapeError("dense layer expects [N, \(inFeatures)], got \(shape)")
        }
        return [shape[0], outFeatures]
    }

    // input is (N, in), weight is (out, in), output is (N, out)
    public func forward(_ inputs: [Tensor], context: ForwardContext) -> Tensor {
        let x = inputs[0]
        let n = x.shape[0]
        let y = pool.tensor(shape: [n, outFeatures])
        gemm(.none, .transposed, m: n, n: outFeatures, k: inFeatures, a: x.pointer, b: weight.pointer, c: y.pointer)
        if let bias {
            Elementwise.addChannelBias(y.pointer, bias: bias.pointer, batch: n, channels: outFeatures, spatial: 1)
        }
        input = x
        return y
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> [Tensor] {
        let x = input!, dy = outputGradient
        let n = x.shape[0]
        // dW += dY^T X
        gemm(.transposed, .none, m: outFeatures, n: inFeatures, k: n,
             a: dy.pointer, b: x.pointer, beta: 1, c: weightGradient.pointer)
        if let biasGradient {
            let sums = workspace.buffer(count: outFeatures)
            Reduction.channelSums(dy.pointer, batch: n, channels: outFeatures, spatial: 1, into: sums)
            Elementwise.addInPlace(biasGradient.pointer, sums, count: outFeatures)
        }
        guard needsInputGradient else { return [] }
        // dX = dY W
        let dx = pool.tensor(shape: x.shape)
        gemm(.none, .none, m: n, n: inFeatures, k: outFeatures, a: dy.pointer, b: weight.pointer, c: dx.pointer)
        return [dx]
    }

    public func releaseCaches() {
        input = nil
    }
}
