/// Where one named parameter lies in the model's flat parameter and gradient buffers.
public struct ParameterSegment: Sendable, Equatable {
    /// The torchvision name (`layer1.0.conv1.weight`).
    public let name: String
    /// The index of the first element in the flat buffers.
    public let offset: Int
    /// The shape.
    public let shape: [Int]
    /// What the parameter is.
    public let role: ParameterRole

    /// The number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// The elements' range in the flat buffers.
    public var range: Range<Int> { offset..<(offset + count) }

    public init(name: String, offset: Int, shape: [Int], role: ParameterRole) {
        self.name = name
        self.offset = offset
        self.shape = shape
        self.role = role
    }
}
