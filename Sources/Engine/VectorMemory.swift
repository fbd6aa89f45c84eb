/// A vector of floats at `p`, which need not be aligned: the kernels' one way to read a SIMD vector from a buffer.
@inline(__always)
func load<V: SIMD>(_ p: UnsafePointer<Float>) -> V where V.Scalar == Float {
    UnsafeRawPointer(p).loadUnaligned(as: V.self)
}

/// Writes the vector `v` at `p`, which need not be aligned.
@inline(__always)
func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>) where V.Scalar == Float {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
}
