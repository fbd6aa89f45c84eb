import Engine

/// How a parameter's values are drawn at the start of training.
///
/// Draws come from Philox keyed by the run's seed, one stream per parameter, so every rank that builds the same
/// model with the same seed gets the same values.
public enum Initializer: Sendable, Equatable {
    /// Every element `value`.
    case constant(Float)
    /// Uniform in [-bound, bound).
    case uniform(bound: Float)
    /// Normal with mean 0 and standard deviation `std`.
    case normal(std: Float)

    /// All zeros.
    public static let zeros = Initializer.constant(0)
    /// All ones.
    public static let ones = Initializer.constant(1)

    /// Glorot (Xavier) uniform: bound sqrt(6 / (fanIn + fanOut)).
    public static func glorotUniform(fanIn: Int, fanOut: Int) -> Initializer {
        .uniform(bound: (6 / Float(fanIn + fanOut)).squareRoot())
    }

    /// He (Kaiming) normal for ReLU: std sqrt(2 / fan).
    public static func heNormal(fan: Int) -> Initializer {
        .normal(std: (2 / Float(fan)).squareRoot())
    }

    /// He (Kaiming) uniform for ReLU: bound sqrt(6 / fan).
    public static func heUniform(fan: Int) -> Initializer {
        .uniform(bound: (6 / Float(fan)).squareRoot())
    }

    /// PyTorch's default for `nn.Linear` and `nn.Conv2d` weights and biases: uniform with bound 1 / sqrt(fanIn)
    /// (kaiming_uniform with a = sqrt(5)).
    public static func torchDefault(fanIn: Int) -> Initializer {
        .uniform(bound: 1 / Float(fanIn).squareRoot())
    }

    /// Writes the initial values into `tensor`, drawing from `stream` of the generator seeded with `seed`.
    public func fill(_ tensor: Tensor, seed: UInt64, stream: UInt64) {
        let philox = Philox(seed: seed)
        switch self {
        case .constant(let value):
            tensor.fill(value)
        case .uniform(let bound):
            philox.fillUniform(tensor.pointer, count: tensor.count, stream: stream)
            for i in 0..<tensor.count { tensor.pointer[i] = (2 * tensor.pointer[i] - 1) * bound }
        case .normal(let std):
            philox.fillNormal(tensor.pointer, count: tensor.count, stream: stream)
            for i in 0..<tensor.count { tensor.pointer[i] *= std }
        }
    }
}
