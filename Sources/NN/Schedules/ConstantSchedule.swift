/// The same learning rate at every step.
public struct ConstantSchedule: LearningRateSchedule {
    /// The learning rate.
    public let base: Float

    /// A schedule that always returns `base`.
    public init(base: Float) {
        self.base = base
    }

    public func learningRate(atStep step: Int) -> Float { base }
}
