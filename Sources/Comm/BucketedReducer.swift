import Foundation

/// Sums the gradient buffer bucket by bucket while backward is still computing the earlier layers.
///
/// Each bucket of the plan starts its allreduce, on the communication thread, as soon as backward has passed its
/// first element; `finish()` starts whatever backward did not report and waits only for what is still in flight.
///
/// MPI's thread level: the communicator asks for MPI_THREAD_SERIALIZED and funnels calls through one lock. During a
/// step the communication thread is the only caller (the step's thread makes no MPI call until `finish()` returns,
/// and its own sums go through `sumInOrder(_:)`, onto the same thread), so MPI sees one thread at a time, in one
/// order on every rank, and the arrival board and stall watch cover these allreduces like any other.
/// MPI's non-blocking collectives, which would spare the thread, measured 2-3x slower than the blocking ones here.
public final class BucketedReducer: GradientReducer {
    /// The slices that travel together, the end of the buffer first.
    public let plan: BucketPlan
    private let gradients: UnsafeMutableBufferPointer<Float>
    private let thread: CommunicationThread
    /// The bfloat16 copy of the gradients that travels instead of them; nil without compression.
    private let staging: UnsafeMutableBufferPointer<UInt16>?
    /// The number of buckets of the plan already handed to the thread in this step.
    private var started = 0
    /// Seconds the step's thread waited in `sumInOrder` since the last `finish()`: exposed communication too.
    private var inOrderSeconds = 0.0

    /// Reduces `gradients` (which must outlive the reducer) across `communicator`'s ranks in the buckets of `plan`,
    /// compressed as `compression` says.
    public init(communicator: any Communicator, gradients: UnsafeMutableBufferPointer<Float>, plan: BucketPlan,
                compression: GradientCompression = .none) {
        precondition(plan.buckets.reduce(0) { $0 + $1.count } == gradients.count,
                     "BucketedReducer: the plan covers \(plan.buckets.reduce(0) { $0 + $1.count }) of \(gradients.count) elements")
        self.plan = plan
        self.gradients = gradients
        thread = CommunicationThread(communicator: communicator)
        staging = compression == .bf16 ? .allocate(capacity: gradients.count) : nil
    }

    deinit {
        // Nothing still in flight may read the staging once it is gone.
        _ = thread.waitForAll()
        thread.close()
        staging?.deallocate()
    }

    /// "4 buckets overlapped with backward (1.0-25.3 MB)".
    public var description: String {
        let sizes = plan.buckets.map { Double($0.count * MemoryLayout<Float>.size) / 1_048_576 }
        let range = sizes.isEmpty ? "" : String(format: " (%.1f-%.1f MB)", sizes.min()!, sizes.max()!)
        return "\(plan.buckets.count) bucket\(plan.buckets.count == 1 ? "" : "s") overlapped with backward" + range
            + (staging == nil ? "" : " as bfloat16")
    }

    public func gradientsReady(from offset: Int) {
        while started < plan.buckets.count, plan.buckets[started].lowerBound >= offset {
            let bucket = plan.buckets[started]
            thread.submit(UnsafeMutableBufferPointer(rebasing: gradients[bucket]),
                          staging: staging.map { $0.baseAddress! + bucket.lowerBound })
            started += 1
        }
    }

    public func sumInOrder(_ values: UnsafeMutableBufferPointer<Double>) {
        let start = ContinuousClock.now
        thread.sumInOrder(values)
        inOrderSeconds += (ContinuousClock.now - start) / .seconds(1)
    }

    public func finish() -> ReductionTimes {
        let start = ContinuousClock.now
        gradientsReady(from: 0)
        let busy = thread.waitForAll()
        started = 0
        defer { inOrderSeconds = 0 }
        return ReductionTimes(exposed: (ContinuousClock.now - start) / .seconds(1) + inOrderSeconds, busy: busy)
    }
}
