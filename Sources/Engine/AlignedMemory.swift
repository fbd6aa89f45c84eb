#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The memory of tensors and workspaces: 64-byte aligned, so that SIMD loads never straddle a cache line at the
/// start of a buffer, and the whole 2 MB of buffers of 2 MB or more in huge pages where the kernel offers them
/// (transparent huge pages on request, Linux's default); the rest of the last 2 MB keeps 4 KB pages, so that no
/// memory is resident that the buffer does not use. A convolution's products read one cache line from each of
/// thousands of rows megabytes apart (an unfolded 256-channel image spans 10 MB); with 4 KB pages every such row is
/// a TLB miss.
enum AlignedMemory {
    static let hugePage = 2 << 20

    /// `bytes` bytes (at least 1), contents undefined; `name` says who asked, should the system refuse.
    static func allocate(bytes: Int, for name: String) -> UnsafeMutableRawPointer {
        let huge = bytes >= hugePage
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, huge ? hugePage : 64, max(bytes, 1)) == 0, let raw else {
            fatalError("\(name): cannot allocate \(bytes) bytes")
        }
        #if os(Linux)
        if huge { _ = madvise(raw, bytes / hugePage * hugePage, MADV_HUGEPAGE) }
        #endif
        return raw
    }
}
