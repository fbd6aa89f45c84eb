#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The memory of tensors and workspaces: 64-byte aligned, so that SIMD loads never straddle a cache line at the
/// start of a buffer, and buffers of 2 MB or more in whole 2 MB huge pages where the kernel offers them
/// (transparent huge pages on request, Linux's default). A convolution's products read one cache line from each
/// of thousands of rows megabytes apart (an unfolded 256-channel image spans 10 MB); with 4 KB pages every such row
/// is a TLB miss.
enum AlignedMemory {
    static let hugePage = 2 << 20

    /// `bytes` bytes (at least 1), contents undefined; `name` says who asked, should the system refuse.
    static func allocate(bytes: Int, for name: String) -> UnsafeMutableRawPointer {
        let huge = bytes >= hugePage
        var raw: UnsafeMutableRawPointer?
        let size = huge ? (bytes + hugePage - 1) / hugePage * hugePage : max(bytes, 1)
        guard posix_memalign(&raw, huge ? hugePage : 64, size) == 0, let raw else {
            fatalError("\(name): cannot allocate \(bytes) bytes")
        }
        #if os(Linux)
        if huge { _ = madvise(raw, size, MADV_HUGEPAGE) }
        #endif
        return raw
    }
}
