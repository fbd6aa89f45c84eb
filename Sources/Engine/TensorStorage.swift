#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import Synchronization

/// A block of Float32 values that tensor views share, aligned as `AlignedMemory` aligns.
public final class TensorStorage: @unchecked Sendable {
    /// The first element.
    public let base: UnsafeMutablePointer<Float>
    /// The number of elements.
    public let count: Int

    /// How many tensor storages and workspace buffers the process has allocated, so that a benchmark can show that
    /// a steady-state training step allocates none.
    public static var allocationCount: Int { allocations.load(ordering: .relaxed) }
    static let allocations = Atomic<Int>(0)

    /// Allocates `count` elements, set to zero.
    public init(count: Int) {
        TensorStorage.allocations.add(1, ordering: .relaxed)
        precondition(count >= 0, "TensorStorage: negative count \(count)")
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let raw = AlignedMemory.allocate(bytes: bytes, for: "TensorStorage")
        memset(raw, 0, bytes)
        self.base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
    }

    deinit { free(base) }
}
