import Engine

/// A differentiable operation with an explicit backward pass.
///
/// `forward` caches what `backward` needs (its input, its output, a mask), replacing what the previous forward
/// cached, until `releaseCaches`; `backward` takes the gradient of the loss with respect to the output, adds (`+=`)
/// the gradients of the layer's parameters into its bound gradient views (the caller zeroes them once per step),
/// and returns the gradient with respect to each input. Layers never modify their inputs. Forward outputs and
/// input gradients come from the layer's `TensorPool`, which recycles storage only once nothing else refers to
/// it: they stay valid while the caller holds them. An input gradient is the caller's to write into unless it is
/// the output gradient passed through (or a view of it) or one tensor returned for both inputs.
public protocol Layer: AnyObject {
    /// The trainable parameters the layer needs, named as torchvision names them (`weight`, `bias`).
    var parameterSpecs: [ParameterSpec] { get }
    /// The non-trainable state the layer keeps (batch-norm statistics).
    var bufferSpecs: [BufferSpec] { get }
    /// Hands the layer its views into the model's flat buffers, in the order of the specs.
    func bind(parameters: [Tensor], gradients: [Tensor], buffers: [Tensor])
    /// Hands the layer the model's shared scratch workspace and tensor pool, which every layer may use because a
    /// model runs its layers one at a time; a layer keeps its own until it is given them.
    func share(_ memory: SharedMemory)
    /// The output shape for inputs of the given shapes (batch dimension first), or an error naming the mismatch.
    func outputShape(for inputShapes: [[Int]]) throws(ShapeError) -> [Int]
    /// Computes the output and caches what `backward` needs.
    func forward(_ inputs: [Tensor], context: ForwardContext) -> Tensor
    /// Accumulates parameter gradients and returns the gradient with respect to each input.
    ///
    /// When `needsInputGradient` is false (the layer reads the network's input) it may return an empty array and
    /// skip that work, which for a first convolution is a third of its backward cost.
    func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> [Tensor]
    /// Drops what the last forward cached, so that its tensors can go back to the pool; the next `backward` needs a
    /// forward first. A model calls it after each layer's backward, and after each layer's forward when it
    /// evaluates.
    func releaseCaches()
}

extension Layer {
    public var parameterSpecs: [ParameterSpec] { [] }
    public var bufferSpecs: [BufferSpec] { [] }
    public func bind(parameters: [Tensor], gradients: [Tensor], buffers: [Tensor]) {}
    public func share(_ memory: SharedMemory) {}
    public func releaseCaches() {}
}

/// An input shape a layer cannot take.
public struct ShapeError: Error, CustomStringConvertible, Sendable {
    /// What was expected and what was found.
    public let description: String
    public init(_ description: String) { self.description = description }
}
