#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A scratch buffer that grows on demand and is reused, so kernels that need temporary space allocate nothing in
/// the steady state.
///
/// The buffer is aligned as `AlignedMemory` aligns and its contents are undefined on every call. One workspace serves one thread at a
/// time; a pointer it returned stays valid until the next call of `buffer(count:)`.
public final class Workspace {
    private var base: UnsafeMutablePointer<Float>?
    private var capacity = 0

    /// An empty workspace; memory is allocated by the first request.
    public init() {}

    deinit { free(base) }

    /// A buffer of at least `count` elements, grown (contents discarded) when the current one is too small.
    public func buffer(count: Int) -> UnsafeMutablePointer<Float> {
        precondition(count >= 0, "Workspace: negative count \(count)")
        if let base, count <= capacity { return base }
        free(base)
        TensorStorage.allocations.add(1, ordering: .relaxed)
        let elements = max(count, 16)
        let raw = AlignedMemory.allocate(bytes: elements * MemoryLayout<Float>.stride, for: "Workspace")
        let pointer = raw.bindMemory(to: Float.self, capacity: elements)
        base = pointer
        capacity = elements
        return pointer
    }
}
