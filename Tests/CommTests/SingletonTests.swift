import Comm
import Testing

/// The communicator in a process started without mpirun: MPI's singleton, rank 0 of 1.
///
/// Swift Testing runs these concurrently, which also exercises `start()` and the call lock from several threads.
@Suite struct SingletonTests {
    let communicator = MPICommunicator.start()

    @Test func startReturnsOneInstanceToConcurrentCallers() async {
        let identities = await withTaskGroup(of: ObjectIdentifier.self) { group in
            for _ in 0..<16 { group.addTask { ObjectIdentifier(MPICommunicator.start()) } }
            return await group.reduce(into: Set<ObjectIdentifier>()) { $0.insert($1) }
        }
        #expect(identities == [ObjectIdentifier(communicator)])
    }

    @Test func isRankZeroOfOneOnItsOwnNode() {
        #expect(communicator.rank == 0 && communicator.size == 1)
        #expect(communicator.localRank == 0 && communicator.localSize == 1)
        #expect(!communicator.processorName.isEmpty)
        #expect(communicator.threadSupport >= .serialized)
    }

    @Test(arguments: [ReduceOperation.sum, .max, .min]) func allreduceLeavesEveryTypeUnchanged(
        operation: ReduceOperation
    ) {
        var floats: [Float] = [1.5, -2, 0, .greatestFiniteMagnitude]
        var doubles: [Double] = [1.5, -2, 0, .leastNonzeroMagnitude]
        var integers: [Int64] = [1, -2, .min, .max]
        let (floatsBefore, doublesBefore, integersBefore) = (floats, doubles, integers)
        floats.withUnsafeMutableBufferPointer { communicator.allreduce($0, operation) }
        doubles.withUnsafeMutableBufferPointer { communicator.allreduce($0, operation) }
        integers.withUnsafeMutableBufferPointer { communicator.allreduce($0, operation) }
        #expect(floats == floatsBefore)
        #expect(doubles == doublesBefore)
        #expect(integers == integersBefore)
        #expect(communicator.allreduce(2.25, operation) == 2.25)
        #expect(communicator.allreduce(-7, operation) == -7)
    }

    @Test func emptyBuffersAreNoOps() {
        communicator.allreduce(UnsafeMutableBufferPointer<Float>(start: nil, count: 0), .sum)
        communicator.broadcast(UnsafeMutableRawBufferPointer(start: nil, count: 0), root: 0)
        var empty: [Double] = []
        communicator.broadcast(&empty, root: 0)
        #expect(empty.isEmpty)
        #expect(communicator.broadcast("", root: 0) == "")
    }

    @Test func broadcastFromTheOnlyRankKeepsTheValues() {
        var bytes: [UInt8] = Array(0...255)
        bytes.withUnsafeMutableBytes { communicator.broadcast($0, root: 0) }
        #expect(bytes == Array(0...255))
        #expect(communicator.broadcast("größe ✓", root: 0) == "größe ✓")
        var floats: [Float] = [1, 2, 3]
        communicator.broadcast(&floats, root: 0)
        #expect(floats == [1, 2, 3])
        #expect(communicator.broadcast(UInt64.max, root: 0) == .max)
    }

    @Test(arguments: [0, 1, 0x5eed, UInt64.max, 1 << 63]) func aSingleRankAlwaysAgrees(fingerprint: UInt64) {
        #expect(communicator.agree(fingerprint))
    }

    @Test func barrierReturns() {
        communicator.barrier()
    }

    @Test func concurrentCollectivesAreSerialised() async {
        await withTaskGroup(of: Bool.self) { group in
            for task in 0..<8 {
                group.addTask {
                    let communicator = MPICommunicator.start()
                    var values = [Double](repeating: Double(task), count: 1000)
                    for _ in 0..<100 { values.withUnsafeMutableBufferPointer { communicator.allreduce($0, .sum) } }
                    return values.allSatisfy { $0 == Double(task) }
                }
            }
            for await unchanged in group { #expect(unchanged) }
        }
    }
}
