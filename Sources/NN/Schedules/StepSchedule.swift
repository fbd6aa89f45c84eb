import Foundation

/// The learning rate multiplied by `gamma` every `stepSize` steps, as PyTorch's `StepLR`:
/// base * gamma^floor(step / stepSize).
public struct StepSchedule: LearningRateSchedule {
    /// The learning rate at step 0.
    public let base: Float
    /// The number of steps between decays.
    public let stepSize: Int
    /// The factor of each decay.
    public let gamma: Float

    /// A schedule starting at `base` that decays by `gamma` every `stepSize` steps.
    public init(base: Float, stepSize: Int, gamma: Float = 0.1) {
        precondition(stepSize > 0, "StepSchedule: step size \(stepSize) is not positive")
        self.base = base
        self.stepSize = stepSize
        self.gamma = gamma
    }

    public func learningRate(atStep step: Int) -> Float {
        Float(Double(base) * pow(Double(gamma), Double(max(step, 0) / stepSize)))
    }
}
