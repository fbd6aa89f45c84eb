import Engine

/// Batch normalization over the channels of [N, C, ...] inputs, with PyTorch's semantics.
///
/// Training normalises with the batch's mean and biased variance and updates the running statistics with the
/// unbiased variance: running = (1 - momentum) running + momentum batch. Evaluation uses the running statistics.
/// Statistics are per rank, as in PyTorch's `BatchNorm2d` under DDP, unless `crossRank` is set: then training
/// uses the statistics of the global batch, as PyTorch's `SyncBatchNorm` does, count-weighted so that shards of
/// different sizes give the global batch's mean and variance, and backward sums the mean gradients over the ranks.
///
/// A ResNet block ends in batch norm, the shortcut's sum and a ReLU; after `takeResidual` the layer takes the
/// shortcut as its second input and computes y = max(BN(x) + shortcut, 0) in one pass, which spares the sum's pass
/// over the batch norm's output and that output's buffer (`Model` does this for every such sum).
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
    public private(set) var fusedReLU: Bool
    /// Whether a second input is added before the fused ReLU: y = max(BN(x) + shortcut, 0).
    public private(set) var residual = false

    private var input: Tensor?
    /// The output, kept for `residualGradient` only with both the residual and the ReLU: the shortcut moves the
    /// ReLU's kink, so the mask is where the output is positive.
    private var output: Tensor?
    private var means: [Float]
    private var inverseStd: [Float]
    private var mode = Mode.training
    private let workspace = Workspace()
    private var pool = TensorPool()

    /// When set, training statistics and their gradients are summed over the ranks (synchronised batch norm).
    public var crossRank: (any CrossRankSum)?
    /// The mean gradients' per-channel sums on their way to and from the other ranks.
    private var rankSums: [Double]
    /// Per-channel Σ x and Σ x^2 of a training batch, and its count last, on their way to and from the other ranks.
    private var moments: [Double]
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
        rankSums = Array(repeating: 0, count: 2 * channels)
        moments = Array(repeating: 0, count: 2 * channels + 1)
    }

    /// Makes the layer take a second input, added to its output (then `relu` applied), in place of the residual
    /// sum that alone reads its output; false, changing nothing, when its own ReLU comes first.
    @discardableResult
    public func takeResidual(relu: Bool) -> Bool {
        guard !fusedReLU || (residual && relu) else { return false }
        residual = true
        fusedReLU = relu
        return true
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
        // A graph gives one input; the residual comes in the sum's place.
        guard inputShapes.count == 1 || (residual && inputShapes.count == 2 && inputShapes[1] == shape) else {
            throw ShapeError("batch norm expects one input\(residual ? " (and a residual of its shape)" : ""), "
                                + "got \(inputShapes)")
        }
        return shape
    }

    // input is (N, C, S) with S the spatial positions; output the same
    public func forward(_ inputs: [Tensor], context: ForwardContext) -> Tensor {
        let x = inputs[0], shortcut = residual ? inputs[1].pointer : nil
        let (n, s) = (x.shape[0], x.count / (x.shape[0] * channels))
        let y = pool.tensor(shape: x.shape)
        mode = context.mode
        input = x
        output = residual && fusedReLU ? y : nil
        guard mode == .training else {
            for c in 0..<channels {
                means[c] = runningMean.pointer[c]
                inverseStd[c] = 1 / (runningVariance.pointer[c] + epsilon).squareRoot()
            }
            BatchNormalization.normalize(x.pointer, y.pointer, means: means, inverseStds: inverseStd,
                                         gammas: gamma.pointer, betas: beta.pointer, residual: shortcut,
                                         relu: fusedReLU, batch: n, channels: channels, spatial: s)
            return y
        }
        let unbiasedVariances = workspace.buffer(count: channels)
        statisticsCount = Double(n * s)
        if let crossRank {
            // Σ x and Σ x^2 in Double (accurate for large activations, see `BatchNormalization.moments`) and the
            // count, summed over the ranks, then the normalization in a pass of its own.
            moments.withUnsafeMutableBufferPointer { moments in
                BatchNormalization.moments(x.pointer, batch: n, channels: channels, spatial: s,
                                           sums: moments.baseAddress!, squareSums: moments.baseAddress! + channels)
                moments[2 * channels] = statisticsCount
                crossRank.sumOverRanks(moments)
            }
            statisticsCount = moments[2 * channels]
            for c in 0..<channels {
                (means[c], inverseStd[c], unbiasedVariances[c]) = BatchNormalization.statistics(
                    sum: moments[c], squareSum: moments[channels + c], count: statisticsCount, epsilon: epsilon)
            }
            BatchNormalization.normalize(x.pointer, y.pointer, means: means, inverseStds: inverseStd,
                                         gammas: gamma.pointer, betas: beta.pointer, residual: shortcut,
                                         relu: fusedReLU, batch: n, channels: channels, spatial: s)
        } else {
            BatchNormalization.trainingForward(x.pointer, y.pointer, gammas: gamma.pointer, betas: beta.pointer,
                                               residual: shortcut, relu: fusedReLU, epsilon: epsilon, batch: n,
                                               channels: channels, spatial: s, means: &means,
                                               inverseStds: &inverseStd, unbiasedVariances: unbiasedVariances)
        }
        for c in 0..<channels {
            runningMean.pointer[c] = (1 - momentum) * runningMean.pointer[c] + momentum * means[c]
            runningVariance.pointer[c] = (1 - momentum) * runningVariance.pointer[c] + momentum * unbiasedVariances[c]
        }
        batchesTracked.pointer[0] += 1
        return y
    }

    /// The gradient of the residual sum's inputs, from the layer's output gradient: masked where the ReLU cut the
    /// sum, or the output gradient itself without the ReLU. `Model` gives it to the shortcut and, as its output
    /// gradient, to this layer's `backward`, at the graph positions of the sum and of the batch norm: so the
    /// shortcut's backward pass runs before the batch norm's, as it would without the fusion, and no more
    /// gradients are alive together than then.
    public func residualGradient(_ outputGradient: Tensor) -> Tensor {
        guard let output else { return outputGradient }
        let masked = pool.tensor(shape: outputGradient.shape)
        Elementwise.reluBackward(input: output.pointer, outputGradient: outputGradient.pointer,
                                 inputGradient: masked.pointer, count: masked.count)
        return masked
    }

    /// Whether `residualGradient` masks the output gradient (the sum's ReLU is fused, and a training forward
    /// kept the output).
    public var masksResidualGradient: Bool { output != nil }

    /// `residualGradient` of the output gradient a + b, written to `target` (which may be a or b) in one pass: the
    /// two gradients arriving where the output is read twice (a ResNet block's output feeds the next block's
    /// convolution and its shortcut) are summed and masked together. Only when `masksResidualGradient`.
    public func residualGradient(of a: Tensor, plus b: Tensor, into target: Tensor) {
        let output = output!
        precondition(a.count == output.count && b.count == output.count && target.count == output.count,
                     "BatchNorm.residualGradient: gradients \(a.shape), \(b.shape) for an output \(output.shape)")
        Elementwise.reluBackwardSum(input: output.pointer, a.pointer, b.pointer, target.pointer, count: target.count)
    }

    /// With a residual, `outputGradient` is the one `residualGradient` gave: it is masked already.
    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> [Tensor] {
        let dy = outputGradient, x = input!
        let (n, s) = (dy.shape[0], dy.count / (dy.shape[0] * channels))
        let scratch = workspace.buffer(count: 5 * channels)
        let (dgamma, dbeta, scales) = (scratch, scratch + channels, scratch + 2 * channels)
        let (meanGradients, meanGradientDots) = (scratch + 3 * channels, scratch + 4 * channels)
        let mask = fusedReLU && !residual ? BatchNormalization.ReLUMask(gammas: gamma.pointer, betas: beta.pointer) : nil
        let dx = needsInputGradient ? pool.tensor(shape: dy.shape) : nil
        defer {
            Elementwise.addInPlace(gammaGradient.pointer, dgamma, count: channels)
            Elementwise.addInPlace(betaGradient.pointer, dbeta, count: channels)
        }
        if mode == .training && crossRank == nil {
            BatchNormalization.trainingBackward(input: x.pointer, relu: mask, outputGradient: dy.pointer, means: means,
                                                inverseStds: inverseStd, gammas: gamma.pointer, batch: n,
                                                channels: channels, spatial: s, gradientSums: dbeta,
                                                gradientDotSums: dgamma, inputGradient: dx?.pointer)
            return dx.map { [$0] } ?? []
        }

        // Separate passes: the mean gradients of synchronised batch norm cross the ranks between them.
        BatchNormalization.gradientSums(input: x.pointer, relu: mask, outputGradient: dy.pointer, means: means,
                                        inverseStds: inverseStd, batch: n, channels: channels, spatial: s,
                                        gradientSums: dbeta, gradientDotSums: dgamma)
        guard let dx else { return [] }

        // The mean gradients run over the batch the statistics came from: the global one with crossRank. The
        // parameter gradients stay this rank's share; the gradient reduction sums them.
        let m = Float(statisticsCount)
        if mode == .training {
            Elementwise.copy(dbeta, meanGradients, count: channels)
            Elementwise.copy(dgamma, meanGradientDots, count: channels)
            sumOverRanks(meanGradients, meanGradientDots)
        }
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
        output = nil
    }

    /// Sums two per-channel arrays over the ranks in one collective when `crossRank` is set.
    private func sumOverRanks(_ first: UnsafeMutablePointer<Float>, _ second: UnsafeMutablePointer<Float>) {
        guard let crossRank else { return }
        for c in 0..<channels {
            rankSums[c] = Double(first[c])
            rankSums[channels + c] = Double(second[c])
        }
        rankSums.withUnsafeMutableBufferPointer { crossRank.sumOverRanks($0) }
        for c in 0..<channels {
            first[c] = Float(rankSums[c])
            second[c] = Float(rankSums[channels + c])
        }
    }
}
