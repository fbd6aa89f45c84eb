/// One allreduce of the whole gradient buffer after backward: nothing overlaps, every byte travels at once.
public final class FlatReducer: GradientReducer {
    private let communicator: any Communicator
    private let gradients: UnsafeMutableBufferPointer<Float>
    /// Seconds spent in `sumInOrder` since the last `finish()`: exposed communication too.
    private var inOrderSeconds = 0.0

    /// Reduces `gradients` (which must outlive the reducer) across `communicator`'s ranks.
    public init(communicator: any Communicator, gradients: UnsafeMutableBufferPointer<Float>) {
        self.communicator = communicator
        self.gradients = gradients
    }

    /// "one allreduce after backward".
    public var description: String { "one allreduce after backward" }

    public func gradientsReady(from offset: Int) {}

    public func sumInOrder(_ values: UnsafeMutableBufferPointer<Double>) {
        let start = ContinuousClock.now
        communicator.allreduce(values, .sum)
        inOrderSeconds += (ContinuousClock.now - start) / .seconds(1)
    }

    public func finish() -> ReductionTimes {
        let start = ContinuousClock.now
        communicator.allreduce(gradients, .sum)
        let seconds = (ContinuousClock.now - start) / .seconds(1) + inOrderSeconds
        inOrderSeconds = 0
        return ReductionTimes(exposed: seconds, busy: seconds)
    }
}
