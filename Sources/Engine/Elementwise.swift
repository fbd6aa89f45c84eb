/// Element-wise kernels on raw buffers: activations and their gradients, and the vector arithmetic of the optimizer
/// and the layers.
///
/// Every kernel walks 16 lanes at a time (one AVX-512 register, or two AVX ones) with a scalar tail, and allocates
/// nothing. Outputs may alias inputs element for element (y == x), never with an offset.
public enum Elementwise {
    /// The width of the vectors the kernels work in.
    typealias Vector = SIMD16<Float>
    static let width = Vector.scalarCount

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int) -> Vector {
        UnsafeRawPointer(p + i).loadUnaligned(as: Vector.self)
    }

    @inline(__always)
    static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: Vector.self)
    }

    /// Elements per thread below which splitting a pass costs more than it saves (about 10 µs of work).
    static let parallelGrain = 1 << 15

    /// Runs `body` over [0, count) in vector-aligned ranges, one per compute thread when there is enough work.
    @inline(__always)
    static func split(_ count: Int, _ body: (_ start: Int, _ end: Int) -> Void) {
        if count < 2 * parallelGrain || ComputeThreads.count == 1 {
            body(0, count)
            return
        }
        let vectors = (count + width - 1) / width
        ComputeThreads.forEachRange(vectors, grain: parallelGrain / width) { range in
            body(range.lowerBound * width, min(range.upperBound * width, count))
        }
    }

    /// Applies `vector` to full vectors and `scalar` to the tail of a unary map y = f(x).
    @inline(__always)
    static func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int,
                    _ vector: (Vector) -> Vector, _ scalar: (Float) -> Float) {
        split(count) { start, end in
            var i = start
            while i + width <= end {
                store(vector(load(x, i)), y, i)
                i += width
            }
            while i < end {
                y[i] = scalar(x[i])
                i += 1
            }
        }
    }

    /// Applies `vector` to full vectors and `scalar` to the rest of a binary map out = f(a, b). A large output
    /// that is not an input is written around the caches (`StreamingStores`).
    @inline(__always)
    static func map(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                    count: Int, _ vector: (Vector, Vector) -> Vector, _ scalar: (Float, Float) -> Float) {
        let streaming = StreamingStores.pay(count: count) && UnsafePointer(out) != a && UnsafePointer(out) != b
        split(count) { start, end in
            var i = start
            while streaming && i < StreamingStores.alignedStart(out, from: start, end: end) {
                out[i] = scalar(a[i], b[i])
                i += 1
            }
            while i + width <= end {
                StreamingStores.store(vector(load(a, i), load(b, i)), out + i, streaming: streaming)
                i += width
            }
            while i < end {
                out[i] = scalar(a[i], b[i])
                i += 1
            }
            if streaming { StreamingStores.fence() }
        }
    }

    /// The ternary map out = f(x, a, b), written as the binary one writes.
    @inline(__always)
    static func map(_ x: UnsafePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                    _ out: UnsafeMutablePointer<Float>, count: Int, _ vector: (Vector, Vector, Vector) -> Vector,
                    _ scalar: (Float, Float, Float) -> Float) {
        let streaming = StreamingStores.pay(count: count)
            && UnsafePointer(out) != x && UnsafePointer(out) != a && UnsafePointer(out) != b
        split(count) { start, end in
            var i = start
            while streaming && i < StreamingStores.alignedStart(out, from: start, end: end) {
                out[i] = scalar(x[i], a[i], b[i])
                i += 1
            }
            while i + width <= end {
                StreamingStores.store(vector(load(x, i), load(a, i), load(b, i)), out + i, streaming: streaming)
                i += width
            }
            while i < end {
                out[i] = scalar(x[i], a[i], b[i])
                i += 1
            }
            if streaming { StreamingStores.fence() }
        }
    }

    // MARK: Activations

    /// y = max(x, 0); a NaN stays NaN, as in PyTorch, so that a diverging run shows in its activations.
    public static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        map(x, y, count: count, { $0.replacing(with: 0, where: $0 .< 0) }, { $0 < 0 ? 0 : $0 })
    }

    /// dx = dy where x > 0, else 0 (the subgradient at 0 is 0, as in PyTorch).
    public static func reluBackward(input x: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>,
                                    inputGradient dx: UnsafeMutablePointer<Float>, count: Int) {
        map(x, dy, dx, count: count, { x, dy in dy.replacing(with: 0, where: .!(x .> 0)) }, { x, dy in x > 0 ? dy : 0 })
    }

    /// out = a + b where x > 0, else 0, in one pass: two gradients arriving at a ReLU's output summed and masked by
    /// it, as `add` then `reluBackward` would give them.
    public static func reluBackwardSum(input x: UnsafePointer<Float>, _ a: UnsafePointer<Float>,
                                       _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        map(x, a, b, out, count: count, { x, a, b in (a + b).replacing(with: 0, where: .!(x .> 0)) },
            { x, a, b in x > 0 ? a + b : 0 })
    }

    /// y = tanh(x), by the vectorised approximation of `FastMath.tanh` (relative error below 1e-6 everywhere).
    ///
    /// The tail goes through the same vector code, one lane used, so that an element's result does not depend on
    /// where it falls in the buffer.
    public static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        map(x, y, count: count, FastMath.tanh, { FastMath.tanh(Vector(repeating: $0))[0] })
    }

    /// dx = dy * (1 - y^2), from the forward output y = tanh(x).
    public static func tanhBackward(output y: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>,
                                    inputGradient dx: UnsafeMutablePointer<Float>, count: Int) {
        map(y, dy, dx, count: count, { y, dy in dy * (1 - y * y) }, { y, dy in dy * (1 - y * y) })
    }

    /// y = 1 / (1 + e^-x), by the vectorised approximation of `FastMath.sigmoid` (stable and accurate to a relative
    /// 1e-6 for every x, down to the subnormal results of x < -87).
    public static func sigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        map(x, y, count: count, FastMath.sigmoid, { FastMath.sigmoid(Vector(repeating: $0))[0] })
    }

    /// dx = dy * y * (1 - y), from the forward output y = sigmoid(x).
    public static func sigmoidBackward(output y: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>,
                                       inputGradient dx: UnsafeMutablePointer<Float>, count: Int) {
        map(y, dy, dx, count: count, { y, dy in dy * y * (1 - y) }, { y, dy in dy * y * (1 - y) })
    }

    // MARK: Arithmetic

    /// y = x, in the engine's own vector loop: the short rows of im2col and the per-channel planes of the
    /// convolution's scatter cost more in a memmove call than in the copy itself. Rows of 16 or more end with one
    /// vector that overlaps the previous one (it rewrites the same values) instead of a scalar tail; `x` and `y`
    /// must not overlap.
    @inline(__always)
    public static func copy(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        if count < width {
            for i in 0..<count { y[i] = x[i] }
            return
        }
        var i = 0
        while i + width <= count {
            store(load(x, i), y, i)
            i += width
        }
        if i < count { store(load(x, count - width), y, count - width) }
    }

    /// x = 0 for `count` elements, without the call of a memset for the few elements of a padding border.
    @inline(__always)
    public static func zero(_ x: UnsafeMutablePointer<Float>, count: Int) {
        if count < width {
            for i in 0..<count { x[i] = 0 }
            return
        }
        var i = 0
        while i + width <= count {
            store(Vector(), x, i)
            i += width
        }
        if i < count { store(Vector(), x, count - width) }
    }

    /// out = max(a + b, 0) in one pass (a NaN stays NaN, as in `relu`): a residual sum and the ReLU after it.
    public static func addReLU(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                               count: Int) {
        map(a, b, out, count: count, { let v = $0 + $1; return v.replacing(with: 0, where: v .< 0) },
            { let v = $0 + $1; return v < 0 ? 0 : v })
    }

    /// out = a + b.
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                           count: Int) {
        map(a, b, out, count: count, { $0 + $1 }, { $0 + $1 })
    }

    /// accumulator += x.
    public static func addInPlace(_ accumulator: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
        map(accumulator, x, accumulator, count: count, { $0 + $1 }, { $0 + $1 })
    }

    /// x *= alpha.
    public static func scale(_ x: UnsafeMutablePointer<Float>, by alpha: Float, count: Int) {
        map(x, x, count: count, { $0 * alpha }, { $0 * alpha })
    }

    /// y += alpha * x.
    public static func axpy(alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int) {
        map(y, x, y, count: count, { $0 + alpha * $1 }, { $0 + alpha * $1 })
    }

    /// out = a * b, element by element.
    public static func multiply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                _ out: UnsafeMutablePointer<Float>, count: Int) {
        map(a, b, out, count: count, { $0 * $1 }, { $0 * $1 })
    }

    /// data[n, c, s] += bias[c], for data laid out (batch, channels, spatial).
    public static func addChannelBias(_ data: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>,
                                      batch: Int, channels: Int, spatial: Int) {
        // data is (N,C,S), bias is (C)
        precondition(batch >= 0 && channels >= 0 && spatial >= 0,
                     "Elementwise.addChannelBias: negative shape (\(batch),\(channels),\(spatial))")
        if spatial == 1 {
            // Fully connected outputs: the bias row is added to each sample's contiguous row.
            for n in 0..<batch { addInPlace(data + n * channels, bias, count: channels) }
            return
        }
        for n in 0..<batch {
            for c in 0..<channels {
                let plane = data + (n * channels + c) * spatial
                let b = bias[c]
                map(plane, plane, count: spatial, { $0 + b }, { $0 + b })
            }
        }
    }
}
