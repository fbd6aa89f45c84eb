import Comm
import Foundation
import Testing

/// The flat and the bucketed reducer on ranks that are threads of this process: the same sums as summing the
/// ranks' buffers in rank order, buckets sent while "backward" is still writing the earlier gradients, and the
/// same collectives on a rank that skipped backward.
@Suite struct GradientReducerTests {
    /// Segments of uneven sizes over 10,000 floats.
    private static let segmentStarts = [0, 7, 300, 301, 2_000, 2_050, 5_000, 9_000, 9_990]
    private static let count = 10_000

    /// Rank r's gradient element i in step s: a value with a fractional part, so that the order of the sum shows.
    private static func value(rank: Int, element: Int, step: Int) -> Float {
        let mixed = UInt32(truncatingIfNeeded: (element &* 2_654_435_761) ^ (rank &* 40_503) ^ (step &* 977))
        return Float(mixed % 100_000) / 997 - 50
    }

    /// Runs `steps` steps on `ranks` threads: each rank writes its gradients segment by segment from the end, as
    /// backward does, a millisecond apart, telling the reducer after each one; ranks in `skipping` write nothing and only finish.
    private static func reduce(ranks: Int, steps: Int, skipping: Set<Int> = [],
                               makeReducer: @escaping @Sendable (ThreadCommunicator, UnsafeMutableBufferPointer<Float>) -> any GradientReducer)
        -> [[Float]] {
        ThreadCommunicator.run(size: ranks) { communicator in
            let rank = communicator.rank
            var gradients = [Float](repeating: 0, count: count)
            gradients.withUnsafeMutableBufferPointer { buffer in
                let reducer = makeReducer(communicator, buffer)
                for step in 0..<steps {
                    buffer.update(repeating: 0)
                    if !skipping.contains(rank) {
                        var end = count
                        for start in segmentStarts.reversed() {
                            // Backward takes time per layer: a bucket sent before its elements are final shows.
                            Thread.sleep(forTimeInterval: 0.001)
                            for i in start..<end { buffer[i] = value(rank: rank, element: i, step: step) }
                            reducer.gradientsReady(from: start)
                            end = start
                        }
                    }
                    _ = reducer.finish()
                }
            }
            return gradients
        }
    }

    /// The ranks' values summed in rank order, as the thread communicator sums them.
    private static func expected(ranks: Int, step: Int, skipping: Set<Int> = []) -> [Float] {
        (0..<count).map { i in
            (0..<ranks).reduce(Float(0)) { sum, rank in sum + (skipping.contains(rank) ? 0 : value(rank: rank, element: i, step: step)) }
        }
    }

    private static func bucketed(bucketBytes: Int, firstBucketBytes: Int)
        -> @Sendable (ThreadCommunicator, UnsafeMutableBufferPointer<Float>) -> any GradientReducer {
        { communicator, buffer in
            let plan = BucketPlan(count: buffer.count, segmentStarts: segmentStarts, bucketBytes: bucketBytes,
                                  firstBucketBytes: firstBucketBytes)
            return BucketedReducer(communicator: communicator, gradients: buffer, plan: plan)
        }
    }

    private static func expectEqual(_ results: [[Float]], _ expected: [Float], _ what: String) {
        for (rank, result) in results.enumerated() {
            let bad = (0..<count).filter { result[$0] != expected[$0] }
            #expect(bad.count == 0, "\(what), rank \(rank): \(bad.count) elements differ, first \(bad.first.map { "[\($0)] \(result[$0]) vs \(expected[$0])" } ?? "")")
        }
    }

    @Test(arguments: [1, 2, 3, 4]) func bucketedAndFlatGiveTheRankOrderSumOverSeveralSteps(ranks: Int) {
        let steps = 3
        let reference = Self.expected(ranks: ranks, step: steps - 1)
        let flat = Self.reduce(ranks: ranks, steps: steps) { FlatReducer(communicator: $0, gradients: $1) }
        Self.expectEqual(flat, reference, "flat")
        for (bucketBytes, firstBytes) in [(4_000, 400), (1, 1), (25 << 20, 1 << 20)] {
            let results = Self.reduce(ranks: ranks, steps: steps,
                                      makeReducer: Self.bucketed(bucketBytes: bucketBytes, firstBucketBytes: firstBytes))
            Self.expectEqual(results, reference, "buckets of \(bucketBytes) bytes, first \(firstBytes)")
        }
    }

    /// bfloat16 on the wire: every rank ends with the same bits, and each element's error against the exact sum
    /// stays within n 2^-8 of the sum of its magnitudes (the rounding of each input and of each hop's partial sum).
    @Test(arguments: [1, 2, 3, 4]) func bfloat16SumsStayWithinTheirBoundAndAgreeOnEveryRank(ranks: Int) {
        let compressed: [(String, @Sendable (ThreadCommunicator, UnsafeMutableBufferPointer<Float>) -> any GradientReducer)] = [
            ("flat", { FlatReducer(communicator: $0, gradients: $1, compression: .bf16) }),
            ("bucketed", { communicator, buffer in
                let plan = BucketPlan(count: buffer.count, segmentStarts: Self.segmentStarts, bucketBytes: 4_000,
                                      firstBucketBytes: 400)
                return BucketedReducer(communicator: communicator, gradients: buffer, plan: plan, compression: .bf16)
            }),
        ]
        for (name, makeReducer) in compressed {
            let results = Self.reduce(ranks: ranks, steps: 1, makeReducer: makeReducer)
            var worst = 0.0
            for i in 0..<Self.count {
                let values = (0..<ranks).map { Double(Self.value(rank: $0, element: i, step: 0)) }
                let exact = values.reduce(0, +), magnitude = values.map(abs).reduce(0, +)
                let bound = Double(ranks) * 0x1p-8 * magnitude * 1.01
                worst = max(worst, abs(Double(results[0][i]) - exact) / max(bound, .leastNormalMagnitude))
            }
            print("bfloat16 \(name) on \(ranks) ranks: worst error \(worst) of its bound")
            #expect(worst <= 1, "\(name): an element's error is \(worst) times its bound")
            // float32 sums would sit near 2^-16 of the bound: the values did travel as bfloat16.
            #expect(worst > 0.1, "\(name): errors of at most \(worst) of the bound are not bfloat16's")
            #expect(results.allSatisfy { $0 == results[0] }, "\(name): the ranks' sums differ")
        }
    }

    @Test func aRankThatSkippedBackwardIssuesTheSameCollectives() {
        let results = Self.reduce(ranks: 3, steps: 2, skipping: [1],
                                  makeReducer: Self.bucketed(bucketBytes: 4_000, firstBucketBytes: 400))
        Self.expectEqual(results, Self.expected(ranks: 3, step: 1, skipping: [1]), "rank 1 skipped backward")
    }

    /// The bucket at the end of the buffer is on its way before backward reaches the start, let alone `finish()`.
    @Test func aBucketTravelsAsSoonAsBackwardHasPassedIt() throws {
        let observed = ObservedCommunicator(ThreadCommunicator.group(size: 1)[0])
        var gradients = [Float](repeating: 1, count: Self.count)
        try gradients.withUnsafeMutableBufferPointer { buffer in
            let plan = BucketPlan(count: Self.count, segmentStarts: Self.segmentStarts, bucketBytes: 4_000, firstBucketBytes: 400)
            let reducer = BucketedReducer(communicator: observed, gradients: buffer, plan: plan)
            let tail = try #require(plan.buckets.first)
            reducer.gradientsReady(from: tail.lowerBound)
            #expect(observed.waitForAllreduce(count: tail.count, seconds: 30), "the tail bucket was not sent before finish()")
            #expect(observed.counts == [tail.count])
            let times = reducer.finish()
            #expect(observed.counts == plan.buckets.map(\.count))
            #expect(times.busy >= 0 && times.exposed >= 0)
        }
    }
}

/// A communicator that records the sizes of the allreduces passed through it and lets a test wait for one.
final class ObservedCommunicator: Communicator, @unchecked Sendable {
    private let inner: any Communicator
    private let condition = NSCondition()
    private var started: [Int] = []

    init(_ inner: any Communicator) { self.inner = inner }

    var rank: Int { inner.rank }
    var size: Int { inner.size }
    var activity: String {
        get { inner.activity }
        set { inner.activity = newValue }
    }
    var stallPolicy: StallPolicy {
        get { inner.stallPolicy }
        set { inner.stallPolicy = newValue }
    }

    /// The element counts of the allreduces started so far, in order.
    var counts: [Int] { condition.withLock { started } }

    /// Whether an allreduce of `count` elements starts within `seconds`.
    func waitForAllreduce(count: Int, seconds: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        return condition.withLock {
            while !started.contains(count) { if !condition.wait(until: deadline) { return false } }
            return true
        }
    }

    func allreduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ operation: ReduceOperation) {
        condition.withLock {
            started.append(buffer.count)
            condition.broadcast()
        }
        inner.allreduce(buffer, operation)
    }
    func allreduce(_ buffer: UnsafeMutableBufferPointer<Double>, _ operation: ReduceOperation) { inner.allreduce(buffer, operation) }
    func allreduce(_ buffer: UnsafeMutableBufferPointer<Int64>, _ operation: ReduceOperation) { inner.allreduce(buffer, operation) }
    func allreduceBFloat16Sum(_ buffer: UnsafeMutableBufferPointer<UInt16>) {
        condition.withLock {
            started.append(buffer.count)
            condition.broadcast()
        }
        inner.allreduceBFloat16Sum(buffer)
    }
    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) { inner.broadcast(buffer, root: root) }
    func barrier() { inner.barrier() }
    func abort(code: Int32) -> Never { inner.abort(code: code) }
}
