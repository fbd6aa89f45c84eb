import Engine

/// Batch normalization over the channels of [N, C, ...] inputs, with PyTorch's semantics.
///
/// Training normalises with the batch's mean and biased variance and updates the running statistics with the
/// unbiased variance: running = (1 - momentum) running + momentum batch. Evaluation uses the running statistics.
/// Statistics are per rank (not synchronised across ranks), as in PyTorch's `BatchNorm2d` under DDP.
public final class BatchNorm: Layer {
    /// The number of channels.
    public let channels: Int
    /// The weight of the newest batch in the running statistics.
    public let momentum: Float
    /// Added to the variance before the square root.
    public let epsilon: Float

    private var gamma = Tensor(zeros: [0]), beta = Tensor(zeros: [0])
    private var gammaGradient = Tensor(zeros: [0]), betaGradient = Tensor(zeros: [0])
    private var runningMean = Tensor(zeros: [0]), runningVariance = Tensor(zeros: [0])
    private var batchesTracked = Tensor(zeros: [0])

    /// Whether a ReLU follows in the same passes: y = max(BN(x), 0) (see `BatchNormalization`).
    public let fusedReLU: Bool

    private var input: Tensor?
    private var means: [Float]
    private var inverseStd: [Float]
    private var mode = Mode.training
    private var output: Tensor?
    private let workspace = Workspace()
    private var gradients = GradientPool()

    /// A batch norm over `channels`; `relu` fuses the ReLU that follows it in a ResNet.
    public init(_ channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5, relu: Bool = false) {
        self.channels = channels
        self.momentum = momentum
        self.epsilon = epsilon
        self.fusedReLU = relu
        means = Array(repeating: 0, count: channels)
        inverseStd = Array(repeating: 0, count: channels)
    }

    public func share(_ memory: SharedMemory) {
        gradients = memory.gradients
    }

    public var parameterSpecs: [ParameterSpec] {
        [ParameterSpec(name: "weight", shape: [channels], initializer: .ones, role: .normalization),
         ParameterSpec(name: "bias", shape: [channels], initializer: .zeros, role: .normalization)]
    }

    /// `num_batches_tracked` is an int64 in PyTorch; as a Float it counts exactly up to 2^24 steps.
    public var bufferSpecs: [BufferSpec] {
        [BufferSpec(name: "running_mean", shape: [channels], initialValue: 0),
         BufferSpec(name: "running_var", shape: [channels], initialValue: 1),
         BufferSpec(name: "num_batches_tracked", shape: [], initialValue: 0)]
    }

    public func bind(parameters: [Tensor], gradients: [Tensor], buffers: [Tensor]) {
        gamma = parameters[0]
        beta = parameters[1]
        gammaGradient = gradients[0]
        betaGradient = gradients[1]
        runningMean = buffers[0]
        runningVariance = buffers[1]
        batchesTracked = buffers[2]
    }

    public func outputShape(for inputShapes: [[Int]]) throws(ShapeError) -> [Int] {
        let shape = inputShapes[0]
        guard shape.count >= 2, shape[1] == channels else {
            throw ShapeError("batch norm expects [N, \(channels), ...], got \(shape)")
        }
        return shape
    }

    // input is (N, C, S) with S the spatial positions; output the same
    public func forward(_ inputs: [Tensor], context: ForwardContext) -> Tensor {
        let x = inputs[0]
        let (n, s) = (x.shape[0], x.count / (x.shape[0] * channels))
        let m = n * s
        let y = Tensor.reusing(output, shape: x.shape)
        mode = context.mode
        let sums = workspace.buffer(count: channels)

        if mode == .training {
            // Two passes (mean, then squared deviations) keep the variance accurate for large activations.
            Reduction.channelSums(x.pointer, batch: n, channels: channels, spatial: s, into: sums)
            for c in 0..<channels {
                means[c] = sums[c] / Float(m)
                runningMean.pointer[c] = (1 - momentum) * runningMean.pointer[c] + momentum * means[c]
            }
            BatchNormalization.centeredSquareSums(x.pointer, means: means, batch: n, channels: channels, spatial: s,
                                                  into: sums)
            for c in 0..<channels {
                let variance = sums[c] / Float(m)
                inverseStd[c] = 1 / (variance + epsilon).squareRoot()
                let unbiased = m > 1 ? sums[c] / Float(m - 1) : variance
                runningVariance.pointer[c] = (1 - momentum) * runningVariance.pointer[c] + momentum * unbiased
            }
            batchesTracked.pointer[0] += 1
        } else {
            for c in 0..<channels {
                means[c] = runningMean.pointer[c]
                inverseStd[c] = 1 / (runningVariance.pointer[c] + epsilon).squareRoot()
            }
        }
        BatchNormalization.normalize(x.pointer, y.pointer, means: means, inverseStds: inverseStd,
                                     gammas: gamma.pointer, betas: beta.pointer, relu: fusedReLU, batch: n,
                                     channels: channels, spatial: s)
        input = x
        output = y
        return y
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> [Tensor] {
        let dy = outputGradient, x = input!
        let (n, s) = (dy.shape[0], dy.count / (dy.shape[0] * channels))
        let m = Float(n * s)
        let scratch = workspace.buffer(count: 5 * channels)
        let (dgamma, dbeta, scales) = (scratch, scratch + channels, scratch + 2 * channels)
        let (meanGradients, meanGradientDots) = (scratch + 3 * channels, scratch + 4 * channels)
        let mask = fusedReLU ? UnsafePointer(output!.pointer) : nil
        BatchNormalization.gradientSums(input: x.pointer, output: mask, outputGradient: dy.pointer, means: means,
                                        inverseStds: inverseStd, batch: n, channels: channels, spatial: s,
                                        gradientSums: dbeta, gradientDotSums: dgamma)
        Elementwise.addInPlace(gammaGradient.pointer, dgamma, count: channels)
        Elementwise.addInPlace(betaGradient.pointer, dbeta, count: channels)
        guard needsInputGradient else { return [] }

        let dx = gradients.tensor(shape: dy.shape)
        for c in 0..<channels {
            scales[c] = gamma.pointer[c] * inverseStd[c]
            // Training: dx = gamma / std * (dy - mean(dy) - xhat * mean(dy * xhat)), the batch statistics depend
            // on x. Evaluation: dx = gamma / std * dy.
            meanGradients[c] = mode == .training ? dbeta[c] / m : 0
            meanGradientDots[c] = mode == .training ? dgamma[c] / m : 0
        }
        BatchNormalization.inputGradient(input: x.pointer, output: mask, outputGradient: dy.pointer, means: means,
                                         inverseStds: inverseStd, scales: scales, meanGradients: meanGradients,
                                         meanGradientDots: meanGradientDots, inputGradient: dx.pointer, batch: n,
                                         channels: channels, spatial: s)
        return [dx]
    }
}
