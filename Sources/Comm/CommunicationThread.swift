import Foundation

/// A thread that runs allreduces one after another, in the order they were handed to it.
///
/// It is the only thread that calls the communicator while a step's gradients are in flight, and the FIFO keeps
/// every rank's collectives in the same order. The communicator's collectives are the blocking ones behind the
/// arrival board and the stall watch, so a late or stopped rank is named exactly as in any other collective.
final class CommunicationThread: @unchecked Sendable {
    /// A slice of memory to sum over the ranks, with the address as an integer so that it can cross threads.
    private struct Job {
        let address: UInt
        let count: Int
        let isDouble: Bool
        /// Where a bfloat16 copy of a Float slice travels; 0 sends the floats themselves.
        let staging: UInt
    }

    private let communicator: any Communicator
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var submitted = 0, completed = 0
    /// Seconds spent inside collectives since the last `waitForAll()`.
    private var busy = 0.0
    private var closed = false

    init(communicator: any Communicator) {
        self.communicator = communicator
        let thread = Thread { [self] in run() }
        thread.name = "dtrain communication"
        thread.start()
    }

    /// Starts summing `slice` over the ranks once the allreduces handed over before it are done, as bfloat16
    /// through `staging` (as long as the slice) when it is given.
    func submit(_ slice: UnsafeMutableBufferPointer<Float>, staging: UnsafeMutablePointer<UInt16>?) {
        guard let base = slice.baseAddress, slice.count > 0 else { return }
        enqueue(Job(address: UInt(bitPattern: base), count: slice.count, isDouble: false,
                    staging: UInt(bitPattern: staging)))
    }

    /// Sums `values` over the ranks after the allreduces handed over before, and returns once that is done.
    func sumInOrder(_ values: UnsafeMutableBufferPointer<Double>) {
        guard let base = values.baseAddress, values.count > 0 else { return }
        let ticket = enqueue(Job(address: UInt(bitPattern: base), count: values.count, isDouble: true, staging: 0))
        condition.withLock {
            while completed < ticket { condition.wait() }
        }
    }

    /// Appends `job` and returns how many jobs must have completed for it to be done.
    @discardableResult
    private func enqueue(_ job: Job) -> Int {
        condition.withLock {
            queue.append(job)
            submitted += 1
            condition.broadcast()
            return submitted
        }
    }

    /// Returns once every submitted allreduce is done, with the seconds they spent in collectives.
    func waitForAll() -> Double {
        condition.withLock {
            while completed < submitted { condition.wait() }
            defer { busy = 0 }
            return busy
        }
    }

    /// Lets the thread end once its queue is empty.
    func close() {
        condition.withLock {
            closed = true
            condition.broadcast()
        }
    }

    private func run() {
        while true {
            let job: Job? = condition.withLock {
                while queue.isEmpty && !closed { condition.wait() }
                return queue.isEmpty ? nil : queue.removeFirst()
            }
            guard let job else { return }
            let start = ContinuousClock.now
            if job.isDouble {
                let base = UnsafeMutablePointer<Double>(bitPattern: job.address)
                communicator.allreduce(UnsafeMutableBufferPointer(start: base, count: job.count), .sum)
            } else {
                let base = UnsafeMutablePointer<Float>(bitPattern: job.address)
                let staging = UnsafeMutablePointer<UInt16>(bitPattern: job.staging)
                communicator.sum(UnsafeMutableBufferPointer(start: base, count: job.count),
                                 compression: staging == nil ? .none : .bf16, staging: staging)
            }
            let seconds = (ContinuousClock.now - start) / .seconds(1)
            condition.withLock {
                completed += 1
                busy += seconds
                condition.broadcast()
            }
        }
    }
}
