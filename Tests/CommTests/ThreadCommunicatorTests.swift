import Comm
import Foundation
import Testing

/// The communicator over threads of one process, on which the reducers are tested without mpirun.
@Suite struct ThreadCommunicatorTests {
    @Test(arguments: [1, 2, 3, 4]) func allreduceSumsMaxesAndMinsInPlaceOnEveryRank(ranks: Int) {
        let results = ThreadGroup.run(ranks: ranks) { communicator -> [Double] in
            let r = Double(communicator.rank + 1)
            var sums = (0..<1001).map { Double($0) * r }, maxima = sums, minima = sums
            var integers = [Int64(communicator.rank)]
            sums.withUnsafeMutableBufferPointer { communicator.allreduce($0, .sum) }
            maxima.withUnsafeMutableBufferPointer { communicator.allreduce($0, .max) }
            minima.withUnsafeMutableBufferPointer { communicator.allreduce($0, .min) }
            integers.withUnsafeMutableBufferPointer { communicator.allreduce($0, .sum) }
            return [sums[1000], maxima[1000], minima[1000], Double(integers[0])]
        }
        let n = Double(ranks)
        for (rank, result) in results.enumerated() {
            #expect(result == [1000 * n * (n + 1) / 2, 1000 * n, 1000, n * (n - 1) / 2], "rank \(rank)")
        }
    }

    @Test(arguments: [1, 2, 4]) func broadcastCopiesTheRootsBytesAndBarrierWaitsForAll(ranks: Int) {
        let entered = Counter()
        let results = ThreadGroup.run(ranks: ranks) { communicator -> String in
            Thread.sleep(forTimeInterval: 0.01 * Double(communicator.rank))
            entered.increment()
            communicator.barrier()
            let afterBarrier = entered.value
            let text = communicator.broadcast("from rank \(communicator.rank)", root: ranks - 1)
            return "\(text), \(afterBarrier) entered"
        }
        #expect(results == Array(repeating: "from rank \(ranks - 1), \(ranks) entered", count: ranks))
    }
}

/// Runs `body` on one thread per rank of a `ThreadCommunicator` group and returns the results by rank.
enum ThreadGroup {
    static func run<Result: Sendable>(ranks: Int, _ body: @escaping @Sendable (ThreadCommunicator) -> Result) -> [Result] {
        let communicators = ThreadCommunicator.group(size: ranks)
        let results = Results<Result>(count: ranks)
        let group = DispatchGroup()
        for communicator in communicators {
            let thread = Thread {
                results.set(communicator.rank, body(communicator))
                group.leave()
            }
            group.enter()
            thread.start()
        }
        group.wait()
        return results.values
    }
}

/// Results written by several threads, one slot each.
final class Results<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Value?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: Value) { lock.withLock { slots[index] = value } }
    var values: [Value] { lock.withLock { slots.map { $0! } } }
}

/// A counter several threads increment.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
