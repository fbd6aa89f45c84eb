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

    private var normalized: Tensor?
    private var inverseStd: [Float]
    private var mode = Mode.training
    private var output: Tensor?, inputGradient: Tensor?
    private let workspace = Workspace()

    public init(_ channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        self.channels = channels
        self.momentum = momentum
        self.epsilon = epsilon
        inverseStd = Array(repeating: 0, count: channels)
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
        let xhat = Tensor.reusing(normalized, shape: x.shape)
        let y = Tensor.reusing(output, shape: x.shape)
        mode = context.mode
        let sums = workspace.buffer(count: channels)

        if mode == .training {
            // Two passes (mean, then squared deviations) keep the variance accurate for large activations.
            Reduction.channelSums(x.pointer, batch: n, channels: channels, spatial: s, into: sums)
            for c in 0..<channels {
                let mean = sums[c] / Float(m)
                for b in 0..<n {
                    let plane = (b * channels + c) * s
                    for i in 0..<s { xhat.pointer[plane + i] = x.pointer[plane + i] - mean }
                }
                runningMean.pointer[c] = (1 - momentum) * runningMean.pointer[c] + momentum * mean
            }
            Reduction.channelDotSums(xhat.pointer, xhat.pointer, batch: n, channels: channels, spatial: s, into: sums)
            for c in 0..<channels {
                let variance = sums[c] / Float(m)
                inverseStd[c] = 1 / (variance + epsilon).squareRoot()
                let unbiased = m > 1 ? sums[c] / Float(m - 1) : variance
                runningVariance.pointer[c] = (1 - momentum) * runningVariance.pointer[c] + momentum * unbiased
            }
            batchesTracked.pointer[0] += 1
        } else {
            for c in 0..<channels {
                let mean = runningMean.pointer[c]
                for b in 0..<n {
                    let plane = (b * channels + c) * s
                    for i in 0..<s { xhat.pointer[plane + i] = x.pointer[plane + i] - mean }
                }
                inverseStd[c] = 1 / (runningVariance.pointer[c] + epsilon).squareRoot()
            }
        }
        for c in 0..<channels {
            let (invStd, g, b0) = (inverseStd[c], gamma.pointer[c], beta.pointer[c])
            for b in 0..<n {
                let plane = (b * channels + c) * s
                for i in 0..<s {
                    let normalizedValue = xhat.pointer[plane + i] * invStd
                    xhat.pointer[plane + i] = normalizedValue
                    y.pointer[plane + i] = g * normalizedValue + b0
                }
            }
        }
        normalized = xhat
        output = y
        return y
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> [Tensor] {
        let dy = outputGradient, xhat = normalized!
        let (n, s) = (dy.shape[0], dy.count / (dy.shape[0] * channels))
        let m = Float(n * s)
        let dgamma = workspace.buffer(count: 2 * channels), dbeta = dgamma + channels
        Reduction.channelDotSums(dy.pointer, xhat.pointer, batch: n, channels: channels, spatial: s, into: dgamma)
        Reduction.channelSums(dy.pointer, batch: n, channels: channels, spatial: s, into: dbeta)
        Elementwise.addInPlace(gammaGradient.pointer, dgamma, count: channels)
        Elementwise.addInPlace(betaGradient.pointer, dbeta, count: channels)
        guard needsInputGradient else { return [] }

        let dx = Tensor.reusing(inputGradient, shape: dy.shape)
        for c in 0..<channels {
            let scale = gamma.pointer[c] * inverseStd[c]
            for b in 0..<n {
                let plane = (b * channels + c) * s
                if mode == .training {
                    // dx = gamma / std * (dy - mean(dy) - xhat * mean(dy * xhat)): the batch statistics depend on x.
                    let (meanDy, meanDyXhat) = (dbeta[c] / m, dgamma[c] / m)
                    for i in 0..<s {
                        dx.pointer[plane + i] = scale * (dy.pointer[plane + i] - meanDy - xhat.pointer[plane + i] * meanDyXhat)
                    }
                } else {
                    for i in 0..<s { dx.pointer[plane + i] = scale * dy.pointer[plane + i] }
                }
            }
        }
        inputGradient = dx
        return [dx]
    }
}
