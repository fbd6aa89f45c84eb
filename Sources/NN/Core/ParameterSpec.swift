/// A trainable parameter a layer asks for.
public struct ParameterSpec: Sendable {
    /// The name relative to the layer (`weight`, `bias`).
    public let name: String
    /// The shape, in torchvision's layout (conv [out, in, kh, kw], dense [out, in]).
    public let shape: [Int]
    /// How the parameter starts.
    public let initializer: Initializer
    /// What the parameter is, which decides whether weight decay applies to it.
    public let role: ParameterRole

    public init(name: String, shape: [Int], initializer: Initializer, role: ParameterRole) {
        self.name = name
        self.shape = shape
        self.initializer = initializer
        self.role = role
    }
}

/// What a parameter is, for optimizers that treat kinds differently.
public enum ParameterRole: Sendable {
    /// A weight matrix or convolution kernel.
    case weight
    /// An additive bias.
    case bias
    /// A normalization layer's scale (gamma) or shift (beta).
    case normalization

    /// Whether weight decay applies when biases and normalization parameters are exempt.
    public var decaysWhenExempting: Bool { self == .weight }
}

/// Non-trainable state a layer keeps, such as batch-norm running statistics.
public struct BufferSpec: Sendable {
    /// The name relative to the layer (`running_mean`).
    public let name: String
    /// The shape.
    public let shape: [Int]
    /// The starting value of every element.
    public let initialValue: Float

    public init(name: String, shape: [Int], initialValue: Float) {
        self.name = name
        self.shape = shape
        self.initialValue = initialValue
    }
}
