import Engine
import Synchronization
import Testing

/// The engine's threads: every task runs once, on a thread it is told about, and the kernels that split their work
/// over the threads give the results they give on one.
@Suite struct ComputeThreadsTests {
    /// Counts kept under a lock, for tasks on several threads.
    final class Counts: Sendable {
        let values: Mutex<[Int]>
        init(_ count: Int) { values = Mutex([Int](repeating: 0, count: count)) }
        func add(_ index: Int) { values.withLock { $0[index] += 1 } }
        var all: [Int] { values.withLock { $0 } }
    }

    @Test(arguments: [1, 2, 3])
    func everyTaskRunsOnceOnAThreadBelowTheCount(threads: Int) {
        let runs = Counts(1000), threadsSeen = Counts(threads + 1)
        ComputeThreads.with(threads: threads) {
            #expect(ComputeThreads.count == threads)
            for _ in 0..<20 {
                ComputeThreads.forEach(1000) { task, thread in
                    runs.add(task)
                    threadsSeen.add(min(max(thread, 0), threads))
                }
            }
        }
        #expect(ComputeThreads.count == 1, "the threads outlive their scope")
        #expect(runs.all.allSatisfy { $0 == 20 })
        #expect(threadsSeen.all[threads] == 0, "a task ran on a thread numbered outside 0..<\(threads)")
    }

    @Test func aNestedForEachRunsOnItsCaller() {
        let inner = Counts(2)
        ComputeThreads.with(threads: 2) {
            ComputeThreads.forEach(4) { _, _ in
                ComputeThreads.forEach(3) { _, thread in inner.add(thread == 0 ? 0 : 1) }
            }
        }
        #expect(inner.all == [12, 0])
    }

    @Test func rangesCoverTheCountInOrder() {
        for count in [0, 1, 5, 1000] {
            let covered = Counts(count)
            ComputeThreads.with(threads: 3) {
                ComputeThreads.forEachRange(count, grain: 2) { range in
                    for i in range { covered.add(i) }
                }
            }
            #expect(covered.all.allSatisfy { $0 == 1 }, "count \(count)")
        }
    }

    /// Runs `body` on 1 thread and on 3 and returns both results.
    static func onOneAndThree(_ body: () -> [Float]) -> (one: [Float], three: [Float]) {
        (ComputeThreads.with(threads: 1, body), ComputeThreads.with(threads: 3, body))
    }

    @Test(arguments: [Convolution.Method.direct, .unfolded(imagesPerGroup: 2)])
    func convolutionsAgreeOnOneAndThreeThreads(method: Convolution.Method) {
        let geometry = WindowGeometry(kernel: 3, padding: 1)
        let x = tensor([7, 5, 12, 18], randomValues(7 * 5 * 12 * 18, stream: 31))
        let w = tensor([6, 5, 3, 3], randomValues(6 * 5 * 9, stream: 32))
        let b = tensor([6], randomValues(6, stream: 33))
        let dy = tensor([7, 6, 12, 18], randomValues(7 * 6 * 12 * 18, stream: 34))
        let results = Self.onOneAndThree {
            let y = Tensor(zeros: dy.shape), dx = Tensor(zeros: x.shape), dw = Tensor(zeros: w.shape)
            let db = Tensor(zeros: [6]), workspace = Workspace()
            Convolution.forward(input: x, weight: w, bias: b, geometry: geometry, output: y, workspace: workspace,
                                method: method)
            Convolution.backward(input: x, outputGradient: dy, weight: w, geometry: geometry, weightGradient: dw,
                                 biasGradient: db, inputGradient: dx, workspace: workspace, method: method)
            return y.scalars + dx.scalars + db.scalars + dw.scalars
        }
        // Only the unfolded weight gradient is summed in another order on several threads (one partial sum per
        // thread); everything else is the same arithmetic.
        let exact = results.one.count - w.count
        #expect(Array(results.one[..<exact]) == Array(results.three[..<exact]), "\(method)")
        expectClose(Array(results.three[exact...]), Array(results.one[exact...]).map(Double.init), absolute: 1e-4,
                    "weight gradient, \(method)")
    }

    @Test func batchNormPoolingAndElementwiseAgreeOnOneAndThreeThreads() {
        let (n, c, s) = (6, 5, 4096)
        let x = randomValues(n * c * s, stream: 41), dy = randomValues(n * c * s, stream: 42)
        let means = randomValues(c, stream: 43), scales = randomValues(c, low: 0.5, high: 2, stream: 44)
        let results = Self.onOneAndThree {
            var out = [Float](repeating: 0, count: n * c * s), dx = out, sums = [Float](repeating: 0, count: 4 * c)
            let pooled = Tensor(zeros: [n, c, 32, 32]), argmax = UnsafeMutablePointer<Int32>.allocate(capacity: n * c * 32 * 32)
            defer { argmax.deallocate() }
            x.withUnsafeBufferPointer { x in dy.withUnsafeBufferPointer { dy in
            means.withUnsafeBufferPointer { m in scales.withUnsafeBufferPointer { r in
                let (x, dy, m, r) = (x.baseAddress!, dy.baseAddress!, m.baseAddress!, r.baseAddress!)
                out.withUnsafeMutableBufferPointer { out in dx.withUnsafeMutableBufferPointer { dx in
                sums.withUnsafeMutableBufferPointer { sums in
                    let (o, d, t) = (out.baseAddress!, dx.baseAddress!, sums.baseAddress!)
                    var moments = [Double](repeating: 0, count: 2 * c)
                    moments.withUnsafeMutableBufferPointer { moments in
                        BatchNormalization.moments(x, batch: n, channels: c, spatial: s, sums: moments.baseAddress!,
                                                   squareSums: moments.baseAddress! + c)
                    }
                    for i in 0..<c { t[i] = Float(moments[c + i] - moments[i]) }
                    BatchNormalization.normalize(x, o, means: m, inverseStds: r, gammas: r, betas: m, residual: dy,
                                                 relu: true, batch: n, channels: c, spatial: s)
                    BatchNormalization.gradientSums(input: x, relu: .init(gammas: r, betas: m), outputGradient: dy, means: m,
                                                    inverseStds: r, batch: n, channels: c, spatial: s,
                                                    gradientSums: t + c, gradientDotSums: t + 2 * c)
                    Reduction.channelSums(x, batch: n, channels: c, spatial: s, into: t + 3 * c)
                    BatchNormalization.inputGradient(input: x, relu: .init(gammas: r, betas: m), outputGradient: dy, means: m,
                                                     inverseStds: r, scales: r, meanGradients: m,
                                                     meanGradientDots: r, inputGradient: d, batch: n,
                                                     channels: c, spatial: s)
                    Elementwise.add(d, x, d, count: n * c * s)
                    Elementwise.reluBackward(input: x, outputGradient: d, inputGradient: d, count: n * c * s)
                    Pooling.maxForward(input: tensor([n, c, 64, 64], Array(UnsafeBufferPointer(start: d, count: n * c * s))),
                                       geometry: WindowGeometry(kernel: 2, stride: 2), output: pooled, argmax: argmax)
                }}}
            }}}}
            return out + dx + sums + pooled.scalars
        }
        #expect(results.one == results.three)
    }
}
