/// Where one named non-trainable buffer (batch-norm statistics) lies in the model's flat buffer store.
public struct BufferSegment: Sendable, Equatable {
    /// The torchvision name (`layer1.0.bn1.running_mean`).
    public let name: String
    /// The index of the first element in the flat buffer store.
    public let offset: Int
    /// The shape.
    public let shape: [Int]

    /// The number of elements.
    public var count: Int { shape.reduce(1, *) }

    public init(name: String, offset: Int, shape: [Int]) {
        self.name = name
        self.offset = offset
        self.shape = shape
    }
}
