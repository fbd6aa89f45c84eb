import Foundation

/// Cosine annealing from `base` to `minimum` over `totalSteps`, PyTorch's `CosineAnnealingLR` closed form:
/// minimum + (base - minimum) * (1 + cos(pi * step / totalSteps)) / 2.
///
/// From `totalSteps` on the rate stays at `minimum`, where PyTorch's formula would rise again along the cosine.
public struct CosineSchedule: LearningRateSchedule {
    /// The learning rate at step 0.
    public let base: Float
    /// The step at which the rate reaches `minimum`.
    public let totalSteps: Int
    /// The final learning rate (PyTorch's eta_min).
    public let minimum: Float

    /// A schedule falling from `base` to `minimum` along a half cosine over `totalSteps`.
    public init(base: Float, totalSteps: Int, minimum: Float = 0) {
        precondition(totalSteps > 0, "CosineSchedule: total steps \(totalSteps) is not positive")
        self.base = base
        self.totalSteps = totalSteps
        self.minimum = minimum
    }

    public func learningRate(atStep step: Int) -> Float {
        let progress = Double(min(max(step, 0), totalSteps)) / Double(totalSteps)
        return Float(Double(minimum) + Double(base - minimum) * (1 + cos(Double.pi * progress)) / 2)
    }
}
