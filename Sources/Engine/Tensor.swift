/// A shaped view of Float32 values in row-major (NCHW) order.
///
/// Tensors have reference semantics: a view shares its storage, so writing through one view is seen by every
/// other view of the same elements. This is what lets layers hold their parameters as views into one flat buffer.
public struct Tensor: @unchecked Sendable {
    /// The storage the view points into.
    public let storage: TensorStorage
    /// Index of the view's first element in `storage`.
    public let offset: Int
    /// The extent of each dimension, outermost first (N, C, H, W for images).
    public let shape: [Int]
    /// The number of elements (the product of `shape`).
    public let count: Int

    /// A new tensor of zeros.
    public init(zeros shape: [Int]) {
        let count = Tensor.elementCount(shape)
        self.init(storage: TensorStorage(count: count), offset: 0, shape: shape)
    }

    /// A new tensor holding `values` (row-major).
    public init(shape: [Int], values: [Float]) {
        precondition(Tensor.elementCount(shape) == values.count,
                     "Tensor: shape \(shape) holds \(Tensor.elementCount(shape)) values, got \(values.count)")
        self.init(zeros: shape)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    /// A view of `shape` starting `offset` elements into `storage`.
    public init(storage: TensorStorage, offset: Int, shape: [Int]) {
        let count = Tensor.elementCount(shape)
        precondition(offset >= 0 && offset + count <= storage.count,
                     "Tensor: view [\(offset), \(offset + count)) outside storage of \(storage.count)")
        self.storage = storage
        self.offset = offset
        self.shape = shape
        self.count = count
    }

    /// The number of elements of a shape.
    public static func elementCount(_ shape: [Int]) -> Int {
        shape.reduce(1) { precondition($1 >= 0, "Tensor: negative dimension in \(shape)"); return $0 * $1 }
    }

    /// The first element.
    public var pointer: UnsafeMutablePointer<Float> { storage.base + offset }

    /// The elements as a mutable buffer.
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    /// The number of dimensions.
    public var rank: Int { shape.count }

    /// The elements, copied into an array.
    public var scalars: [Float] { Array(buffer) }

    /// The same elements under another shape with the same count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(Tensor.elementCount(newShape) == count, "Tensor: cannot reshape \(shape) to \(newShape)")
        return Tensor(storage: storage, offset: offset, shape: newShape)
    }

    /// The `index`-th slice along the first dimension (one sample of a batch), sharing storage.
    public func slice(_ index: Int) -> Tensor {
        precondition(rank >= 1 && index >= 0 && index < shape[0], "Tensor: slice \(index) outside \(shape)")
        let inner = Array(shape.dropFirst())
        let stride = Tensor.elementCount(inner)
        return Tensor(storage: storage, offset: offset + index * stride, shape: inner)
    }

    /// Reads or writes the element at a multi-dimensional index (for tests and set-up, not inner loops).
    public subscript(_ index: Int...) -> Float {
        get { pointer[linearIndex(index)] }
        nonmutating set { pointer[linearIndex(index)] = newValue }
    }

    private func linearIndex(_ index: [Int]) -> Int {
        precondition(index.count == rank, "Tensor: index \(index) does not match shape \(shape)")
        var linear = 0
        for (i, extent) in zip(index, shape) {
            precondition(i >= 0 && i < extent, "Tensor: index \(index) outside shape \(shape)")
            linear = linear * extent + i
        }
        return linear
    }

    /// Copies every element of `source`, which must have the same count.
    public func copy(from source: Tensor) {
        precondition(source.count == count, "Tensor: copy of \(source.count) values into \(count)")
        pointer.update(from: source.pointer, count: count)
    }

    /// Sets every element to `value`.
    public func fill(_ value: Float) {
        pointer.update(repeating: value, count: count)
    }
}

extension Tensor {
    /// A tensor of the given shape whose storage is reused when it is large enough.
    ///
    /// For a buffer its owner keeps from call to call (the trainer's evaluation loss gradient): `cached` reshaped
    /// when its storage already fits, so repeated calls allocate nothing.
    public static func reusing(_ cached: Tensor?, shape: [Int]) -> Tensor {
        let needed = elementCount(shape)
        if let cached, cached.offset == 0, cached.storage.count >= needed, cached.storage.count <= 2 * needed + 64 {
            return Tensor(storage: cached.storage, offset: 0, shape: shape)
        }
        return Tensor(zeros: shape)
    }
}
