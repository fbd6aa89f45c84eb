#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import Synchronization

/// A 64-byte aligned block of Float32 values that tensor views share.
///
/// Aligned to a cache line so that SIMD loads never straddle one at the start of a buffer.
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
        var raw: UnsafeMutableRawPointer?
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        guard posix_memalign(&raw, 64, bytes) == 0, let raw else {
            fatalError("TensorStorage: cannot allocate \(bytes) bytes")
        }
        memset(raw, 0, bytes)
        self.base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
    }

    deinit { free(base) }
}
