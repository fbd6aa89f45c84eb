import NN

/// The `[optimizer]` section: the update rule, its learning rate and weight decay, and the smoothing of the
/// training loss's targets.
///
/// The rules are PyTorch's (see the optimizers in NN). `lr` is the base learning rate; the schedule may scale
/// it by the global batch (`schedule.scale_lr`) and shape it over time.
public struct OptimizerSettings: Sendable, Equatable {
    /// An update rule with the hyperparameters that apply to it.
    public enum Algorithm: Sendable, Equatable {
        /// Plain SGD (`momentum` in [0, 1), default 0).
        case sgd(momentum: Float)
        /// SGD with heavy-ball momentum (`momentum` in [0, 1), default 0.9).
        case momentum(momentum: Float)
        /// SGD with Nesterov momentum (`momentum` in (0, 1), default 0.9).
        case nesterov(momentum: Float)
        /// AdaGrad (`eps` > 0, default 1e-10).
        case adagrad(epsilon: Float)
        /// RMSProp (`alpha` in [0, 1], default 0.99; `eps` > 0, default 1e-8; `momentum` in [0, 1), default 0).
        case rmsprop(alpha: Double, epsilon: Float, momentum: Float)
        /// Adam with L2 weight decay (`beta1`, `beta2` in [0, 1), defaults 0.9 and 0.999; `eps`, default 1e-8).
        case adam(beta1: Double, beta2: Double, epsilon: Float)
        /// Adam with decoupled weight decay (keys and defaults as Adam).
        case adamw(beta1: Double, beta2: Double, epsilon: Float)
        /// LARS with momentum (`momentum` in [0, 1), default 0.9; `eta` > 0, the trust coefficient, default 0.001).
        case lars(momentum: Float, trustCoefficient: Float)
    }

    /// The names `optimizer.name` may take.
    public enum Name: String, Sendable, CaseIterable {
        case sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw, lars
    }

    /// The update rule (`name`, default sgd, and its keys).
    public var algorithm: Algorithm
    /// The base learning rate (`lr` > 0, required).
    public var learningRate: Float
    /// The weight decay coefficient (`weight_decay` ≥ 0, default 0; 0.01 for adamw as PyTorch).
    public var weightDecay: Float
    /// Whether biases and batch-norm parameters take weight decay too (`decay_bias_and_norm`, default true);
    /// false exempts them, as Goyal et al. do for ResNet-50 (and LARS then also leaves them unadapted).
    public var decayBiasAndNorm: Bool
    /// The label smoothing ε of the training loss (`label_smoothing` in [0, 1], default 0): cross-entropy against
    /// (1 - ε) onehot(label) + ε / classes, as PyTorch's `CrossEntropyLoss(label_smoothing=ε)`. Evaluation reports
    /// the plain cross-entropy.
    public var labelSmoothing: Float

    /// Settings with the given values.
    public init(algorithm: Algorithm = .sgd(momentum: 0), learningRate: Float, weightDecay: Float = 0,
                decayBiasAndNorm: Bool = true, labelSmoothing: Float = 0) {
        self.algorithm = algorithm
        self.labelSmoothing = labelSmoothing
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.decayBiasAndNorm = decayBiasAndNorm
    }

    /// The rule's name as the config writes it.
    public var name: Name {
        switch algorithm {
        case .sgd: return .sgd
        case .momentum: return .momentum
        case .nesterov: return .nesterov
        case .adagrad: return .adagrad
        case .rmsprop: return .rmsprop
        case .adam: return .adam
        case .adamw: return .adamw
        case .lars: return .lars
        }
    }

    /// A fresh optimizer (no state yet) for the parameters that `segments` lay out in the flat buffer.
    public func makeOptimizer(segments: [ParameterSegment]) -> any Optimizer {
        let exempt = !decayBiasAndNorm
        switch algorithm {
        case .sgd(let momentum), .momentum(let momentum):
            return SGD(segments: segments, momentum: momentum, weightDecay: weightDecay,
                       exemptBiasAndNormalization: exempt)
        case .nesterov(let momentum):
            return SGD(segments: segments, momentum: momentum, nesterov: true, weightDecay: weightDecay,
                       exemptBiasAndNormalization: exempt)
        case .adagrad(let epsilon):
            return AdaGrad(segments: segments, epsilon: epsilon, weightDecay: weightDecay,
                           exemptBiasAndNormalization: exempt)
        case .rmsprop(let alpha, let epsilon, let momentum):
            return RMSProp(segments: segments, alpha: alpha, epsilon: epsilon, momentum: momentum,
                           weightDecay: weightDecay, exemptBiasAndNormalization: exempt)
        case .adam(let beta1, let beta2, let epsilon):
            return Adam(segments: segments, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
                        exemptBiasAndNormalization: exempt)
        case .adamw(let beta1, let beta2, let epsilon):
            return AdamW(segments: segments, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
                         exemptBiasAndNormalization: exempt)
        case .lars(let momentum, let trustCoefficient):
            return LARS(segments: segments, trustCoefficient: trustCoefficient, momentum: momentum,
                        weightDecay: weightDecay, exemptBiasAndNormalization: exempt)
        }
    }

    static let keys = ["name", "lr", "momentum", "weight_decay", "decay_bias_and_norm", "beta1", "beta2", "eps",
                       "alpha", "eta", "label_smoothing"]

    init(from section: SectionReader) throws(ConfigError) {
        var section = section
        let name = try section.choice("name", of: Name.self) ?? .sgd
        guard let learningRate = try section.float("lr", .positive) else {
            throw section.missing("lr", expected: "a number > 0 (the base learning rate)")
        }
        func momentum(default value: Float) throws(ConfigError) -> Float {
            try section.float("momentum", .fraction) ?? value
        }
        func betas() throws(ConfigError) -> (Double, Double, Float) {
            (try section.number("beta1", .fraction) ?? 0.9, try section.number("beta2", .fraction) ?? 0.999,
             try section.float("eps", .positive) ?? 1e-8)
        }
        let algorithm: Algorithm
        switch name {
        case .sgd: algorithm = .sgd(momentum: try momentum(default: 0))
        case .momentum: algorithm = .momentum(momentum: try momentum(default: 0.9))
        case .nesterov:
            let value = try momentum(default: 0.9)
            guard value > 0 else { throw section.outOfRange("momentum", "must be > 0 for nesterov", "\(value)") }
            algorithm = .nesterov(momentum: value)
        case .adagrad: algorithm = .adagrad(epsilon: try section.float("eps", .positive) ?? 1e-10)
        case .rmsprop:
            algorithm = .rmsprop(alpha: try section.number("alpha", .closedFraction) ?? 0.99,
                                 epsilon: try section.float("eps", .positive) ?? 1e-8, momentum: try momentum(default: 0))
        case .adam:
            let (beta1, beta2, epsilon) = try betas()
            algorithm = .adam(beta1: beta1, beta2: beta2, epsilon: epsilon)
        case .adamw:
            let (beta1, beta2, epsilon) = try betas()
            algorithm = .adamw(beta1: beta1, beta2: beta2, epsilon: epsilon)
        case .lars:
            algorithm = .lars(momentum: try momentum(default: 0.9),
                              trustCoefficient: try section.float("eta", .positive) ?? 0.001)
        }
        self.init(algorithm: algorithm, learningRate: learningRate,
                  weightDecay: try section.float("weight_decay", .nonNegative) ?? (name == .adamw ? 0.01 : 0),
                  decayBiasAndNorm: try section.boolean("decay_bias_and_norm") ?? true,
                  labelSmoothing: try section.float("label_smoothing", .closedFraction) ?? 0)
        try section.finish(context: "optimizer \(name.rawValue)")
    }

    func write(to writer: inout TOMLWriter) {
        writer.section("optimizer")
        writer.set("name", name.rawValue)
        writer.set("lr", learningRate)
        switch algorithm {
        case .sgd(let momentum), .momentum(let momentum), .nesterov(let momentum):
            writer.set("momentum", momentum)
        case .adagrad(let epsilon):
            writer.set("eps", epsilon)
        case .rmsprop(let alpha, let epsilon, let momentum):
            writer.set("alpha", alpha)
            writer.set("eps", epsilon)
            writer.set("momentum", momentum)
        case .adam(let beta1, let beta2, let epsilon), .adamw(let beta1, let beta2, let epsilon):
            writer.set("beta1", beta1)
            writer.set("beta2", beta2)
            writer.set("eps", epsilon)
        case .lars(let momentum, let trustCoefficient):
            writer.set("momentum", momentum)
            writer.set("eta", trustCoefficient)
        }
        writer.set("weight_decay", weightDecay)
        writer.set("decay_bias_and_norm", decayBiasAndNorm)
        writer.set("label_smoothing", labelSmoothing)
    }
}
