import CMPI
import Foundation

/// The ranks of a job as threads of one process, for testing what runs on a communicator without mpirun.
///
/// `group(size:)` makes one communicator per rank, each for a thread of its own (`run(size:_:)` starts them). A collective meets the
/// other ranks in shared memory: every rank leaves its buffer's address, and once all have, rank r reduces the r-th
/// share of the elements over the ranks' buffers in rank order and writes the result into every buffer, so the
/// sums are the same whatever the timing. Ranks that issue different collectives trap, naming them.
public final class ThreadCommunicator: Communicator, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    public var activity = "start-up"
    public var stallPolicy = StallPolicy.standard
    private let meeting: Meeting

    /// One communicator per rank of a job of `size` ranks.
    public static func group(size: Int) -> [ThreadCommunicator] {
        precondition(size >= 1, "a job has at least one rank")
        let meeting = Meeting(size: size)
        return (0..<size).map { ThreadCommunicator(rank: $0, size: size, meeting: meeting) }
    }

    /// Runs `body` on one thread per rank of a new group of `size` ranks and returns its results by rank.
    public static func run<Result: Sendable>(size: Int, _ body: @escaping @Sendable (ThreadCommunicator) -> Result) -> [Result] {
        let results = ResultSlots<Result>(count: size)
        let done = DispatchGroup()
        for communicator in group(size: size) {
            done.enter()
            Thread {
                results.set(communicator.rank, body(communicator))
                done.leave()
            }.start()
        }
        done.wait()
        return results.values
    }

    private init(rank: Int, size: Int, meeting: Meeting) {
        self.rank = rank
        self.size = size
        self.meeting = meeting
    }

    public func allreduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ operation: ReduceOperation) {
        reduce(buffer, operation, "allreduce of \(buffer.count) Float")
    }

    public func allreduce(_ buffer: UnsafeMutableBufferPointer<Double>, _ operation: ReduceOperation) {
        reduce(buffer, operation, "allreduce of \(buffer.count) Double")
    }

    public func allreduce(_ buffer: UnsafeMutableBufferPointer<Int64>, _ operation: ReduceOperation) {
        reduce(buffer, operation, "allreduce of \(buffer.count) Int64")
    }

    public func allreduceBFloat16Sum(_ buffer: UnsafeMutableBufferPointer<UInt16>) {
        let call = "allreduce of \(buffer.count) bfloat16"
        let addresses = meeting.arrive(rank: rank, address: buffer.baseAddress.map(UnsafeMutableRawPointer.init), call: call)
        let buffers = addresses.map { $0!.assumingMemoryBound(to: UInt16.self) }
        let share = (buffer.count + size - 1) / size
        for index in min(buffer.count, rank * share)..<min(buffer.count, (rank + 1) * share) {
            // A chain of hops in rank order, each adding in float32 and rounding to bfloat16, as MPI's operation does.
            var value = buffers[0][index]
            for other in buffers.dropFirst() {
                value = dtrain_float_to_bf16(dtrain_bf16_to_float(other[index]) + dtrain_bf16_to_float(value))
            }
            for target in buffers { target[index] = value }
        }
        _ = meeting.arrive(rank: rank, address: nil, call: "the end of an \(call)")
    }

    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) {
        let addresses = meeting.arrive(rank: rank, address: buffer.baseAddress, call: "broadcast of \(buffer.count) bytes from \(root)")
        if rank != root, buffer.count > 0, let source = addresses[root] {
            buffer.baseAddress!.copyMemory(from: source, byteCount: buffer.count)
        }
        _ = meeting.arrive(rank: rank, address: nil, call: "the end of a broadcast")
    }

    public func barrier() {
        _ = meeting.arrive(rank: rank, address: nil, call: "barrier")
    }

    public func abort(code: Int32) -> Never {
        exit(code)
    }

    private func reduce<Element: Numeric & Comparable>(
        _ buffer: UnsafeMutableBufferPointer<Element>, _ operation: ReduceOperation, _ call: String
    ) {
        let addresses = meeting.arrive(rank: rank, address: buffer.baseAddress.map(UnsafeMutableRawPointer.init), call: call)
        let buffers = addresses.map { $0!.assumingMemoryBound(to: Element.self) }
        let share = (buffer.count + size - 1) / size
        let mine = min(buffer.count, rank * share)..<min(buffer.count, (rank + 1) * share)
        for index in mine {
            var value = buffers[0][index]
            for other in buffers.dropFirst() {
                switch operation {
                case .sum: value += other[index]
                case .max: value = max(value, other[index])
                case .min: value = min(value, other[index])
                }
            }
            for target in buffers { target[index] = value }
        }
        // No rank may return (and reuse its buffer) while another still reads or writes it.
        _ = meeting.arrive(rank: rank, address: nil, call: "the end of an \(call)")
    }
}

/// Where the threads of a `ThreadCommunicator` group meet: a reusable barrier that also exchanges one address
/// per rank and checks that every rank arrived for the same call.
private final class Meeting: @unchecked Sendable {
    private let size: Int
    private let condition = NSCondition()
    private var addresses: [UnsafeMutableRawPointer?]
    private var calls: [String]
    private var arrived = 0
    private var generation = 0
    private var published: [UnsafeMutableRawPointer?] = []

    init(size: Int) {
        self.size = size
        addresses = Array(repeating: nil, count: size)
        calls = Array(repeating: "", count: size)
    }

    /// Waits until every rank has arrived and returns the address each rank left.
    func arrive(rank: Int, address: UnsafeMutableRawPointer?, call: String) -> [UnsafeMutableRawPointer?] {
        condition.withLock {
            addresses[rank] = address
            calls[rank] = call
            arrived += 1
            let mine = generation
            if arrived == size {
                if let other = calls.firstIndex(where: { $0 != calls[0] }) {
                    fatalError("ThreadCommunicator: rank 0 entered \(calls[0]) but rank \(other) entered \(calls[other])")
                }
                published = addresses
                arrived = 0
                generation += 1
                condition.broadcast()
            } else {
                while generation == mine { condition.wait() }
            }
            return published
        }
    }
}

/// One result per rank, written by the ranks' threads.
private final class ResultSlots<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Value?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: Value) { lock.withLock { slots[index] = value } }
    var values: [Value] { lock.withLock { slots.map { $0! } } }
}
