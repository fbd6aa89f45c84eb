import CBLAS

/// Whether a GEMM operand is used as stored or transposed.
public enum Transpose: Sendable {
    case none, transposed
    var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

/// C = alpha * op(A) * op(B) + beta * C, on row-major matrices, through OpenBLAS's `cblas_sgemm`.
///
/// op(A) is m x k, op(B) is k x n, C is m x n; `lda`, `ldb`, `ldc` are the row strides of A, B and C as stored.
/// The leading dimensions default to the dense layouts.
public func gemm(
    _ transA: Transpose, _ transB: Transpose,
    m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
    b: UnsafePointer<Float>, ldb: Int? = nil,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil
) {
    let lda = lda ?? (transA == .none ? k : m)
    let ldb = ldb ?? (transB == .none ? n : k)
    let ldc = ldc ?? n
    if m == 0 || n == 0 { return }
    cblas_sgemm(CblasRowMajor, transA.cblas, transB.cblas,
                blasint(m), blasint(n), blasint(k),
                alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
}

/// Thread control for OpenBLAS, which the engine shares process-wide.
public enum BLAS {
    /// Sets the number of threads OpenBLAS uses for one call.
    public static func setThreads(_ count: Int) { openblas_set_num_threads(Int32(count)) }
    /// The number of threads OpenBLAS uses.
    public static var threads: Int { Int(openblas_get_num_threads()) }
    /// The OpenBLAS build ("OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ..."), without the kernel it chose.
    static var build: String {
        String(cString: openblas_get_config()).split(separator: " ").filter { $0 != String(cString: openblas_get_corename()) }
            .joined(separator: " ")
    }
    /// Whether OpenBLAS runs its AVX-512 kernels (its SkylakeX family and the newer ones), about twice as fast as
    /// its AVX2 ones on the same CPU.
    static let hasAVX512Kernels = ["skylakex", "cooperlake", "sapphirerapids"]
        .contains(String(cString: openblas_get_corename()).lowercased())
    /// The build and kernel OpenBLAS chose ("OpenBLAS 0.3.21 ... SkylakeX ...").
    public static var configuration: String {
        String(cString: openblas_get_config()) + " core=" + String(cString: openblas_get_corename())
    }
}
