import Dispatch

/// The FP32 peak of the CPU the benchmark runs on, measured rather than looked up: every thread runs independent
/// chains of 16-lane fused multiply-adds, as many as the FMA units can keep in flight.
enum PeakFLOPs {
    typealias Vector = SIMD16<Float>

    /// Multiply-adds of one thread, `iterations` times 12 vectors of 16 lanes (12 chains cover 4-cycle latency on
    /// two FMA pipes); returns a value that depends on every chain so that none is optimised away.
    @inline(never)
    static func chains(iterations: Int) -> Float {
        let b = Vector(repeating: 0.999_999), c = Vector(repeating: 1e-7)
        var a0 = Vector(repeating: 1.0), a1 = Vector(repeating: 1.1), a2 = Vector(repeating: 1.2)
        var a3 = Vector(repeating: 1.3), a4 = Vector(repeating: 1.4), a5 = Vector(repeating: 1.5)
        var a6 = Vector(repeating: 1.6), a7 = Vector(repeating: 1.7), a8 = Vector(repeating: 1.8)
        var a9 = Vector(repeating: 1.9), a10 = Vector(repeating: 2.0), a11 = Vector(repeating: 2.1)
        for _ in 0..<iterations {
            a0 = a0.addingProduct(b, c); a1 = a1.addingProduct(b, c); a2 = a2.addingProduct(b, c)
            a3 = a3.addingProduct(b, c); a4 = a4.addingProduct(b, c); a5 = a5.addingProduct(b, c)
            a6 = a6.addingProduct(b, c); a7 = a7.addingProduct(b, c); a8 = a8.addingProduct(b, c)
            a9 = a9.addingProduct(b, c); a10 = a10.addingProduct(b, c); a11 = a11.addingProduct(b, c)
        }
        let sum = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11))
        return sum.sum()
    }

    /// GFLOP/s of `threads` threads running the chains at once (2 FLOPs per lane and multiply-add), the best of a
    /// few repetitions.
    static func measure(threads: Int) -> Double {
        let iterations = 20_000_000
        let flopsPerThread = 2.0 * 16 * 12 * Double(iterations)
        _ = chains(iterations: iterations / 10)
        var best = 0.0
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                if chains(iterations: iterations) == 0 { print("") }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = max(best, flopsPerThread * Double(threads) / seconds / 1e9)
        }
        return best
    }
}
