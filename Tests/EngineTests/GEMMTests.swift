import Engine
import Testing

@Suite struct GEMMTests {
    /// C = alpha op(A) op(B) + beta C by the triple loop, in Double, on matrices stored with row strides lda, ldb, ldc.
    static func naive(_ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, alpha: Double,
                      a: [Float], lda: Int, b: [Float], ldb: Int, beta: Double, c: [Float], ldc: Int) -> [Double] {
        var result = c.map(Double.init)
        for i in 0..<m {
            for j in 0..<n {
                var total = 0.0
                for p in 0..<k {
                    let aip = transA == .none ? a[i * lda + p] : a[p * lda + i]
                    let bpj = transB == .none ? b[p * ldb + j] : b[j * ldb + p]
                    total += Double(aip) * Double(bpj)
                }
                result[i * ldc + j] = alpha * total + beta * Double(c[i * ldc + j])
            }
        }
        return result
    }

    @Test(arguments: [Transpose.none, .transposed], [Transpose.none, .transposed])
    func matchesTripleLoop(transA: Transpose, transB: Transpose) {
        let (m, n, k) = (5, 7, 6)
        for padded in [false, true] {
            // Padded leading dimensions exercise sub-matrices of wider buffers.
            let extra = padded ? 3 : 0
            let aRows = transA == .none ? m : k, aColumns = transA == .none ? k : m
            let bRows = transB == .none ? k : n, bColumns = transB == .none ? n : k
            let lda = aColumns + extra, ldb = bColumns + extra, ldc = n + extra
            let a = randomValues(aRows * lda, stream: 1), b = randomValues(bRows * ldb, stream: 2)
            var c = randomValues(m * ldc, stream: 3)
            let (alpha, beta): (Float, Float) = padded ? (0.75, 0.5) : (1, 0)
            let expected = GEMMTests.naive(transA, transB, m: m, n: n, k: k, alpha: Double(alpha), a: a, lda: lda,
                                           b: b, ldb: ldb, beta: Double(beta), c: c, ldc: ldc)
            if padded {
                gemm(transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                     beta: beta, c: &c, ldc: ldc)
            } else {
                gemm(transA, transB, m: m, n: n, k: k, a: a, b: b, c: &c)
            }
            expectClose(c, expected, absolute: 1e-5, "gemm \(transA) \(transB) padded \(padded)")
        }
    }

    @Test func emptyProductLeavesCScaledByBeta() {
        var c: [Float] = [1, 2, 3, 4]
        let none: [Float] = [0]
        gemm(.none, .none, m: 2, n: 2, k: 0, a: none, lda: 1, b: none, ldb: 2, beta: 2, c: &c)
        expectEqual(c, [2, 4, 6, 8], "k = 0")
    }
}

@Suite struct BLASKernelChoiceTests {
    @Test func candidatesNeedTheirInstructionSets() {
        let avx2: Set<String> = ["sse2", "avx", "avx2", "fma"]
        let avx512 = avx2.union(["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"])
        #expect(BLASKernelChoice.candidates(flags: ["sse2", "sse3"], vendor: "GenuineIntel") == [""])
        #expect(BLASKernelChoice.candidates(flags: avx2, vendor: "GenuineIntel") == ["Haswell", ""])
        #expect(BLASKernelChoice.candidates(flags: avx2, vendor: "AuthenticAMD") == ["Zen", ""])
        #expect(BLASKernelChoice.candidates(flags: avx512.subtracting(["avx512vl"]), vendor: "GenuineIntel")
                    == ["Haswell", ""])
        #expect(BLASKernelChoice.candidates(flags: avx512, vendor: "GenuineIntel") == ["SkylakeX", "Haswell", ""])
        #expect(BLASKernelChoice.candidates(flags: avx512.union(["avx512_bf16"]), vendor: "GenuineIntel")
                    == ["Cooperlake", "SkylakeX", "Haswell", ""])
    }
}
