import Engine

/// A 2-D convolution (cross-correlation, as `nn.Conv2d`) with weight [out, in, kh, kw] and an optional bias.
public final class Conv2D: Layer {
    /// The number of input channels.
    public let inChannels: Int
    /// The number of output channels (filters).
    public let outChannels: Int
    /// Kernel, stride and zero padding.
    public let geometry: WindowGeometry
    /// Whether the layer adds a bias per output channel.
    public let hasBias: Bool
    private let weightInitializer: Initializer
    private let biasInitializer: Initializer

    private var weight = Tensor(zeros: [0]), weightGradient = Tensor(zeros: [0])
    private var bias: Tensor?, biasGradient: Tensor?
    private var input: Tensor?
    private var workspace = Workspace()
    private var pool = TensorPool()

    /// A square convolution; initialised as PyTorch does unless told otherwise.
    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, weightInitializer: Initializer? = nil, biasInitializer: Initializer? = nil) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.geometry = WindowGeometry(kernel: kernel, stride: stride, padding: padding)
        self.hasBias = bias
        let fanIn = inChannels * kernel * kernel
        self.weightInitializer = weightInitializer ?? .torchDefault(fanIn: fanIn)
        self.biasInitializer = biasInitializer ?? .torchDefault(fanIn: fanIn)
    }

    private var weightShape: [Int] { [outChannels, inChannels, geometry.kernelHeight, geometry.kernelWidth] }

    public var parameterSpecs: [ParameterSpec] {
        [ParameterSpec(name: "weight", shape: weightShape, initializer: weightInitializer, role: .weight)]
            + (hasBias ? [ParameterSpec(name: "bias", shape: [outChannels], initializer: biasInitializer, role: .bias)] : [])
    }

    public func bind(parameters: [Tensor], gradients: [Tensor], buffers: [Tensor]) {
        weight = parameters[0]
        weightGradient = gradients[0]
        if hasBias {
            bias = parameters[1]
            biasGradient = gradients[1]
        }
    }

    /// Convolutions take the model's shared scratch memory: one unfolding buffer for the whole network, not one per
    /// layer.
    public func share(_ memory: SharedMemory) {
        workspace = memory.workspace
        pool = memory.pool
    }

    public func outputShape(for inputShapes: [[Int]]) throws(ShapeError) -> [Int] {
        let shape = inputShapes[0]
        guard shape.count == 4, shape[1] == inChannels else {
            throw ShapeError("convolution expects [N, \(inChannels), H, W], got \(shape)")
        }
        guard geometry.fits(height: shape[2], width: shape[3]) else {
            throw ShapeError("a \(geometry.kernelHeight)x\(geometry.kernelWidth) kernel does not fit \(shape[2])x\(shape[3]) inputs")
        }
        let size = geometry.outputSize(height: shape[2], width: shape[3])
        return [shape[0], outChannels, size.height, size.width]
    }

    // input is (N, C, H, W), weight is (O, C, kh, kw), output is (N, O, oH, oW)
    public func forward(_ inputs: [Tensor], context: ForwardContext) -> Tensor {
        let x = inputs[0]
        let size = geometry.outputSize(height: x.shape[2], width: x.shape[3])
        let y = pool.tensor(shape: [x.shape[0], outChannels, size.height, size.width])
        Convolution.forward(input: x, weight: weight, bias: bias, geometry: geometry, output: y, workspace: workspace)
        input = x
        return y
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> [Tensor] {
        let x = input!
        let dx = needsInputGradient ? pool.tensor(shape: x.shape) : nil
        if LayerProfile.isTimingBackward {
            // Profiled: the two gradients apart, so that each is timed (the same arithmetic as together).
            LayerProfile.timeWeightGradient {
                Convolution.backwardWeight(input: x, outputGradient: outputGradient, geometry: geometry,
                                           weightGradient: weightGradient, biasGradient: biasGradient,
                                           workspace: workspace)
            }
            if let dx {
                Convolution.backwardInput(outputGradient: outputGradient, weight: weight, geometry: geometry,
                                          inputGradient: dx, workspace: workspace)
            }
        } else {
            Convolution.backward(input: x, outputGradient: outputGradient, weight: weight, geometry: geometry,
                                 weightGradient: weightGradient, biasGradient: biasGradient, inputGradient: dx,
                                 workspace: workspace)
        }
        guard let dx else { return [] }
        return [dx]
    }

    public func releaseCaches() {
        input = nil
    }
}
