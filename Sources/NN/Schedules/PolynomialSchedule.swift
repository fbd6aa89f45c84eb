import Foundation

/// Polynomial decay from `base` to `end` over `totalSteps`:
/// end + (base - end) * (1 - min(step, totalSteps) / totalSteps)^power.
///
/// With `end` 0 this is PyTorch's `PolynomialLR`; after `totalSteps` the rate stays at `end`.
public struct PolynomialSchedule: LearningRateSchedule {
    /// The learning rate at step 0.
    public let base: Float
    /// The step at which the rate reaches `end`.
    public let totalSteps: Int
    /// The exponent of the decay (1 is linear).
    public let power: Float
    /// The final learning rate.
    public let end: Float

    /// A schedule falling from `base` to `end` as a polynomial of degree `power` over `totalSteps`.
    public init(base: Float, totalSteps: Int, power: Float = 1, end: Float = 0) {
        precondition(totalSteps > 0, "PolynomialSchedule: total steps \(totalSteps) is not positive")
        self.base = base
        self.totalSteps = totalSteps
        self.power = power
        self.end = end
    }

    public func learningRate(atStep step: Int) -> Float {
        let remaining = 1 - Double(min(max(step, 0), totalSteps)) / Double(totalSteps)
        return Float(Double(end) + Double(base - end) * pow(remaining, Double(power)))
    }
}
