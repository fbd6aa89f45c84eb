#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A 64-byte aligned block of Float32 values that tensor views share.
///
/// Aligned to a cache line so that SIMD loads never straddle one at the start of a buffer.
public final class TensorStorage: @unchecked Sendable {
    /// The first element.
    public let base: UnsafeMutablePointer<Float>
    /// The number of elements.
    public let count: Int

    /// Allocates `count` elements, set to zero.
    public init(count: Int) {
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
