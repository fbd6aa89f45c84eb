/// One allreduce of the whole gradient buffer after backward: nothing overlaps, every byte travels at once.
public final class FlatReducer: GradientReducer {
    private let communicator: any Communicator
    private let gradients: UnsafeMutableBufferPointer<Float>
    /// The bfloat16 copy of the gradients that travels instead of them; nil without compression.
    private let staging: UnsafeMutableBufferPointer<UInt16>?
    /// Seconds spent in `sumInOrder` since the last `finish()`: exposed communication too.
    private var inOrderSeconds = 0.0

    /// Reduces `gradients` (which must outlive the reducer) across `communicator`'s ranks, compressed as
    /// `compression` says.
    public init(communicator: any Communicator, gradients: UnsafeMutableBufferPointer<Float>,
                compression: GradientCompression = .none) {
        self.communicator = communicator
        self.gradients = gradients
        staging = compression == .bf16 ? .allocate(capacity: gradients.count) : nil
    }

    deinit { staging?.deallocate() }

    /// "one allreduce after backward".
    public var description: String { "one allreduce after backward" + (staging == nil ? "" : " as bfloat16") }

    public func gradientsReady(from offset: Int) {}

    public func sumInOrder(_ values: UnsafeMutableBufferPointer<Double>) {
        let start = ContinuousClock.now
        communicator.allreduce(values, .sum)
        inOrderSeconds += (ContinuousClock.now - start) / .seconds(1)
    }

    public func finish() -> ReductionTimes {
        let start = ContinuousClock.now
        communicator.sum(gradients, compression: staging == nil ? .none : .bf16, staging: staging?.baseAddress)
        let seconds = (ContinuousClock.now - start) / .seconds(1) + inOrderSeconds
        inOrderSeconds = 0
        return ReductionTimes(exposed: seconds, busy: seconds)
    }
}
