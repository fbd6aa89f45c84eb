import CCacheHints

/// Reductions of raw buffers to scalars and to per-channel sums.
///
/// The compiler does not vectorise a scalar Float reduction (it may not reorder the additions), so the kernels keep
/// four 16-lane partial sums. Accuracy: the float partials cover blocks of at most `blockLength` elements (64 terms
/// per lane), and the blocks are added in Double, so the error stays near that of one block whatever the length.
/// Batch-norm statistics over millions of elements need this; a plain float running sum loses digits as it grows.
public enum Reduction {
    typealias Vector = SIMD16<Float>

    /// The elements summed in float before a block's partial sum moves to Double.
    static let blockLength = 4096

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int) -> Vector {
        UnsafeRawPointer(p + i).loadUnaligned(as: Vector.self)
    }

    /// Σ term(i) over i < count, where `vector` gives the terms of 16 consecutive elements from index i and
    /// `scalar` one term.
    @inline(__always)
    static func blockedSum(count: Int, _ vector: (Int) -> Vector, _ scalar: (Int) -> Float) -> Double {
        var total = 0.0
        var start = 0
        while start < count {
            let end = min(start + blockLength, count)
            var s0 = Vector(), s1 = Vector(), s2 = Vector(), s3 = Vector()
            var i = start
            while i + 64 <= end {
                s0 += vector(i)
                s1 += vector(i + 16)
                s2 += vector(i + 32)
                s3 += vector(i + 48)
                i += 64
            }
            while i + 16 <= end {
                s0 += vector(i)
                i += 16
            }
            var tail: Float = 0
            while i < end {
                tail += scalar(i)
                i += 1
            }
            total += Double(((s0 + s1) + (s2 + s3)).sum()) + Double(tail)
            start = end
        }
        return total
    }

    /// The three sums of term(i) over the planes [offset(p), offset(p) + spatial) for p < planes, in one pass: the
    /// float partials run across planes and move to Double once per `blockLength` elements, not once per plane, so
    /// that the small planes of deep layers (64 or 49 positions) cost no more per element than large ones. Planes
    /// of one channel lie a whole image apart, each too short for the hardware prefetchers to follow, so
    /// `prefetch` is given the offset of the plane `planesAhead` on, to ask for the first lines of its sources.
    @inline(__always)
    static func planeSums(planes: Int, spatial: Int, offset: (Int) -> Int, prefetch: (Int) -> Void,
                          _ vector: (Int) -> (Vector, Vector, Vector),
                          _ scalar: (Int) -> (Float, Float, Float)) -> (Double, Double, Double) {
        var totals = (0.0, 0.0, 0.0)
        var a0 = Vector(), a1 = Vector(), b0 = Vector(), b1 = Vector(), c0 = Vector(), c1 = Vector()
        var tails: (Float, Float, Float) = (0, 0, 0)
        func flush() {
            totals.0 += Double((a0 + a1).sum()) + Double(tails.0)
            totals.1 += Double((b0 + b1).sum()) + Double(tails.1)
            totals.2 += Double((c0 + c1).sum()) + Double(tails.2)
            (a0, a1, b0, b1, c0, c1) = (Vector(), Vector(), Vector(), Vector(), Vector(), Vector())
            tails = (0, 0, 0)
        }
        var pending = 0
        for p in 0..<min(planesAhead, planes) { prefetch(offset(p)) }
        for p in 0..<planes {
            let base = offset(p)
            if p + planesAhead < planes { prefetch(offset(p + planesAhead)) }
            var start = 0
            while start < spatial {
                let length = min(spatial - start, blockLength)
                if pending + length > blockLength {
                    flush()
                    pending = 0
                }
                var i = base + start
                let end = i + length
                while i + 32 <= end {
                    let (first, second) = (vector(i), vector(i + 16))
                    a0 += first.0
                    b0 += first.1
                    c0 += first.2
                    a1 += second.0
                    b1 += second.1
                    c1 += second.2
                    i += 32
                }
                while i + 16 <= end {
                    let terms = vector(i)
                    a0 += terms.0
                    b0 += terms.1
                    c0 += terms.2
                    i += 16
                }
                while i < end {
                    let terms = scalar(i)
                    tails.0 += terms.0
                    tails.1 += terms.1
                    tails.2 += terms.2
                    i += 1
                }
                pending += length
                start += length
            }
        }
        flush()
        return totals
    }

    /// How many planes ahead `planeSums` prefetches.
    static let planesAhead = 4

    /// Asks for the lines of x[0..<min(count, 256)], the start of a plane that `planeSums` reaches soon: enough
    /// for a small plane whole, and for a large one until the hardware prefetchers have caught its stream.
    @inline(__always)
    static func prefetchPlane(_ x: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i < min(count, 256) {
            dtrain_prefetch(x + i)
            i += 16
        }
    }

    /// `prefetchPlane` for a plane about to be written.
    @inline(__always)
    static func prefetchPlaneForWriting(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i < min(count, 256) {
            dtrain_prefetch_write(x + i)
            i += 16
        }
    }

    /// Σ x[i], with the block partials added in Double (see the type's note on accuracy).
    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        Float(sumInDouble(x, count: count))
    }

    /// Σ x[i]^2.
    public static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Float {
        Float(blockedSum(count: count, { let v = load(x, $0); return v * v }, { x[$0] * x[$0] }))
    }

    /// Σ a[i] b[i].
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        Float(dotInDouble(a, b, count: count))
    }

    /// max |x[i]|, or 0 for an empty buffer; NaNs are ignored.
    public static func maxAbs(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var m0 = Vector(), m1 = Vector()
        var i = 0
        while i + 32 <= count {
            let a = FastMath.magnitude(load(x, i)), b = FastMath.magnitude(load(x, i + 16))
            m0 = m0.replacing(with: a, where: a .> m0)
            m1 = m1.replacing(with: b, where: b .> m1)
            i += 32
        }
        while i + 16 <= count {
            let a = FastMath.magnitude(load(x, i))
            m0 = m0.replacing(with: a, where: a .> m0)
            i += 16
        }
        var result = m0.replacing(with: m1, where: m1 .> m0).max()
        while i < count {
            let a = x[i].magnitude
            if a > result { result = a }
            i += 1
        }
        return result
    }

    /// sums[c] = Σ over n and s of data[n, c, s], for data laid out (batch, channels, spatial) (overwrites `sums`).
    public static func channelSums(_ data: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
                                   into sums: UnsafeMutablePointer<Float>) {
        // data is (N,C,S), sums is (C)
        precondition(batch >= 0 && channels >= 0 && spatial >= 0,
                     "Reduction.channelSums: negative shape (\(batch),\(channels),\(spatial))")
        if spatial == 1 {
            // (N,C) data: adding whole rows keeps the loads contiguous; a batch is short enough for float.
            sums.update(repeating: 0, count: channels)
            for n in 0..<batch { Elementwise.addInPlace(sums, data + n * channels, count: channels) }
            return
        }
        ComputeThreads.forEachRange(channels) { range in
            for c in range {
                var total = 0.0
                for n in 0..<batch { total += sumInDouble(data + (n * channels + c) * spatial, count: spatial) }
                sums[c] = Float(total)
            }
        }
    }

    /// sums[c] = Σ over n and s of a[n, c, s] b[n, c, s] (overwrites `sums`); batch norm's backward pass needs
    /// Σ dy (x - mean) per channel.
    public static func channelDotSums(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, batch: Int, channels: Int,
                                      spatial: Int, into sums: UnsafeMutablePointer<Float>) {
        // a and b are (N,C,S), sums is (C)
        precondition(batch >= 0 && channels >= 0 && spatial >= 0,
                     "Reduction.channelDotSums: negative shape (\(batch),\(channels),\(spatial))")
        if spatial == 1 {
            sums.update(repeating: 0, count: channels)
            for n in 0..<batch {
                let rowA = a + n * channels, rowB = b + n * channels
                var i = 0
                while i + 16 <= channels {
                    Elementwise.store(load(sums, i) + load(rowA, i) * load(rowB, i), sums, i)
                    i += 16
                }
                while i < channels {
                    sums[i] += rowA[i] * rowB[i]
                    i += 1
                }
            }
            return
        }
        for c in 0..<channels {
            var total = 0.0
            for n in 0..<batch {
                let plane = (n * channels + c) * spatial
                total += dotInDouble(a + plane, b + plane, count: spatial)
            }
            sums[c] = Float(total)
        }
    }

    /// Whether no element is NaN or infinite: x * 0 is 0 for every finite x and NaN otherwise, and a NaN survives
    /// any sum, so one vectorised pass decides.
    public static func allFinite(_ x: UnsafePointer<Float>, count: Int) -> Bool {
        blockedSum(count: count, { load(x, $0) * 0 }, { x[$0] * 0 }) == 0
    }

    @inline(__always)
    static func sumInDouble(_ x: UnsafePointer<Float>, count: Int) -> Double {
        blockedSum(count: count, { load(x, $0) }, { x[$0] })
    }

    @inline(__always)
    static func dotInDouble(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Double {
        blockedSum(count: count, { load(a, $0) * load(b, $0) }, { a[$0] * b[$0] })
    }
}
