import Comm
import Foundation
import Testing

/// The communicator over threads of one process, on which the reducers are tested without mpirun.
@Suite struct ThreadCommunicatorTests {
    @Test(arguments: [1, 2, 3, 4]) func allreduceSumsMaxesAndMinsInPlaceOnEveryRank(ranks: Int) {
        let results = ThreadCommunicator.run(size: ranks) { communicator -> [Double] in
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
        let results = ThreadCommunicator.run(size: ranks) { communicator -> String in
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

/// A counter several threads increment.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
