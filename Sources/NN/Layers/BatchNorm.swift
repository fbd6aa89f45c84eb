import Engine

/// Batch normalization over the channels of [N, C, ...] inputs, with PyTorch's semantics.
///
/// Training normalises with the batch's mean and biased variance and updates the running statistics with the
/// unbiased variance: running = (1 - momentum) running + momentum batch. Evaluation uses the running statistics.
/// Statistics are per rank, as in PyTorch's `BatchNorm2d` under DDP, unless `crossRank` is set: then training
/// uses the statistics of the global batch, as PyTorch's `SyncBatchNorm` does, count-weighted so that shards of
/// different sizes give the global batch's mean and variance, and backward sums the mean gradients over the ranks.
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
    private let workspace = Workspace()
    private var pool = TensorPool()

    /// When set, training statistics and their gradients are summed over the ranks (synchronised batch norm).
    public var crossRank: (any CrossRankSum)?
    /// Per-channel sums (and the sample count last) on their way to and from the other ranks.
    private var rankSums: [Double]
    /// The number of values per channel behind the last training forward's statistics, over every rank.
    private var statisticsCount = 0.0

    /// A batch norm over `channels`; `relu` fuses the ReLU that follows it in a ResNet.
    public init(_ channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5, relu: Bool = false) {
        self.channels = channels
        self.momentum = momentum
        self.epsilon = epsilon
        self.fusedReLU = relu
        means = Array(repeating: 0, count: channels)
        inverseStd = Array(repeating: 0, count: channels)
        rankSums = Array(repeating: 0, count: 2 * channels + 1)
    }

    public func share(_ memory: SharedMemory) {
        pool = memory.pool
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
        let y = pool.tensor(shape: x.shape)
        mode = context.mode
        let sums = workspace.buffer(count: channels)

        if mode == .training {
            // Two passes (mean, then squared deviations) keep the variance accurate for large activations; with
            // crossRank each pass's sums and the count are summed over the ranks before they are divided.
            Reduction.channelSums(x.pointer, batch: n, channels: channels, spatial: s, into: sums)
            let count = sumOverRanks(sums, count: Float(m))
            statisticsCount = Double(count)
            for c in 0..<channels {
                means[c] = sums[c] / count
                runningMean.pointer[c] = (1 - momentum) * runningMean.pointer[c] + momentum * means[c]
            }
            BatchNormalization.centeredSquareSums(x.pointer, means: means, batch: n, channels: channels, spatial: s,
                                                  into: sums)
            _ = sumOverRanks(sums, count: 0)
            for c in 0..<channels {
                let variance = sums[c] / count
                inverseStd[c] = 1 / (variance + epsilon).squareRoot()
                let unbiased = count > 1 ? sums[c] / (count - 1) : variance
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
        return y
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> [Tensor] {
        let dy = outputGradient, x = input!
        let (n, s) = (dy.shape[0], dy.count / (dy.shape[0] * channels))
        let scratch = workspace.buffer(count: 5 * channels)
        let (dgamma, dbeta, scales) = (scratch, scratch + channels, scratch + 2 * channels)
        let (meanGradients, meanGradientDots) = (scratch + 3 * channels, scratch + 4 * channels)
        let mask = fusedReLU ? BatchNormalization.ReLUMask(gammas: gamma.pointer, betas: beta.pointer) : nil
        BatchNormalization.gradientSums(input: x.pointer, relu: mask, outputGradient: dy.pointer, means: means,
                                        inverseStds: inverseStd, batch: n, channels: channels, spatial: s,
                                        gradientSums: dbeta, gradientDotSums: dgamma)
        Elementwise.addInPlace(gammaGradient.pointer, dgamma, count: channels)
        Elementwise.addInPlace(betaGradient.pointer, dbeta, count: channels)
        guard needsInputGradient else { return [] }

        // The mean gradients run over the batch the statistics came from: the global one with crossRank. The
        // parameter gradients above stay this rank's share; the gradient reduction sums them.
        let m = Float(statisticsCount)
        if mode == .training {
            Elementwise.copy(dbeta, meanGradients, count: channels)
            Elementwise.copy(dgamma, meanGradientDots, count: channels)
            sumOverRanks(meanGradients, meanGradientDots)
        }
        let dx = pool.tensor(shape: dy.shape)
        for c in 0..<channels {
            scales[c] = gamma.pointer[c] * inverseStd[c]
            // Training: dx = gamma / std * (dy - mean(dy) - xhat * mean(dy * xhat)), the batch statistics depend
            // on x. Evaluation: dx = gamma / std * dy.
            meanGradients[c] = mode == .training ? meanGradients[c] / m : 0
            meanGradientDots[c] = mode == .training ? meanGradientDots[c] / m : 0
        }
        BatchNormalization.inputGradient(input: x.pointer, relu: mask, outputGradient: dy.pointer, means: means,
                                         inverseStds: inverseStd, scales: scales, meanGradients: meanGradients,
                                         meanGradientDots: meanGradientDots, inputGradient: dx.pointer, batch: n,
                                         channels: channels, spatial: s)
        return [dx]
    }

    public func releaseCaches() {
        input = nil
    }

    /// Sums `sums` (one per channel) and `count` over the ranks when `crossRank` is set; returns the summed count.
    private func sumOverRanks(_ sums: UnsafeMutablePointer<Float>, count: Float) -> Float {
        guard let crossRank else { return count }
        for c in 0..<channels { rankSums[c] = Double(sums[c]) }
        rankSums[channels] = Double(count)
        rankSums.withUnsafeMutableBufferPointer { crossRank.sumOverRanks(UnsafeMutableBufferPointer(rebasing: $0[...channels])) }
        for c in 0..<channels { sums[c] = Float(rankSums[c]) }
        return Float(rankSums[channels])
    }

    /// Sums two per-channel arrays over the ranks in one collective when `crossRank` is set.
    private func sumOverRanks(_ first: UnsafeMutablePointer<Float>, _ second: UnsafeMutablePointer<Float>) {
        guard let crossRank else { return }
        for c in 0..<channels {
            rankSums[c] = Double(first[c])
            rankSums[channels + c] = Double(second[c])
        }
        rankSums.withUnsafeMutableBufferPointer { crossRank.sumOverRanks(UnsafeMutableBufferPointer(rebasing: $0[..<(2 * channels)])) }
        for c in 0..<channels {
            first[c] = Float(rankSums[c])
            second[c] = Float(rankSums[channels + c])
        }
    }
}
