import CCacheHints
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Stores that go around the caches, for outputs too large for their next reader to find them there.
///
/// An ordinary store first reads its cache line from memory, to own it, so writing a buffer larger than the caches
/// moves it over the memory bus twice; a streaming store writes whole lines without reading them. Measured on
/// Sapphire Rapids (2 MB of L2 per core), one thread: batch norm's passes over ResNet-50's 13-51 MB activations
/// 1.2-1.6x faster streamed, and ResNet-50's step 4-10% faster in three alternating pairs; ResNet-20's 4 MB
/// activations, which the next convolution reads at once, no faster streamed (its step a little slower in five
/// pairs). So a kernel streams an output of more than four times the L2 cache, where its lines are 64-byte
/// aligned, and fences once at the end. The users: batch norm's outputs and input gradients, the binary
/// element-wise maps, the pointwise products' outputs and input gradients (ResNet-50's 51 MB ones at 56x56 1.3-1.4x
/// faster in alternating runs) and Winograd's (its 12.8 MB ones at 56x56, about 1.05-1.2x).
enum StreamingStores {
    /// Bytes of output above which kernels stream it: four times the L2 cache per core (512 KB if the system does
    /// not say).
    static let threshold: Int = {
        #if os(Linux)
        let l2 = sysconf(Int32(_SC_LEVEL2_CACHE_SIZE))
        #else
        let l2 = -1
        #endif
        return 4 * (l2 > 0 ? l2 : 512 << 10)
    }()

    /// Whether an output of `count` floats is streamed.
    @inline(__always)
    static func pay(count: Int) -> Bool { count * MemoryLayout<Float>.stride > threshold }

    /// The first index from `start` at which `p + index` is 64-byte aligned, at most `end`: elements before it take
    /// ordinary stores.
    @inline(__always)
    static func alignedStart(_ p: UnsafeMutablePointer<Float>, from start: Int, end: Int) -> Int {
        let misaligned = (Int(bitPattern: p + start) & 63) / MemoryLayout<Float>.stride
        return min(end, start + (misaligned == 0 ? 0 : 16 - misaligned))
    }

    /// Writes v at p: around the caches when `streaming` (p must then be 64-byte aligned), as usual otherwise.
    @inline(__always)
    static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, streaming: Bool) {
        if streaming { dtrain_stream(p, v) } else { Engine.store(v, p) }
    }

    /// Writes v (16 or 8 floats) at p around the caches; p must be aligned to v's size.
    @inline(__always)
    static func stream<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>) where V.Scalar == Float {
        if V.scalarCount == 16 {
            dtrain_stream(p, unsafeBitCast(v, to: SIMD16<Float>.self))
        } else {
            dtrain_stream8(p, unsafeBitCast(v, to: SIMD8<Float>.self))
        }
    }

    /// Orders the streaming stores before the stores that follow (the compute threads' completion flags).
    @inline(__always)
    static func fence() { dtrain_store_fence() }
}
