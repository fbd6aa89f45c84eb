import Foundation

/// The learning rate multiplied by `gamma` at each milestone step, as PyTorch's `MultiStepLR`:
/// base * gamma^(number of milestones <= step).
public struct MultiStepSchedule: LearningRateSchedule {
    /// The learning rate before the first milestone.
    public let base: Float
    /// The steps at which the rate decays, in increasing order.
    public let milestones: [Int]
    /// The factor of each decay.
    public let gamma: Float

    /// A schedule starting at `base` that decays by `gamma` at each of `milestones`.
    public init(base: Float, milestones: [Int], gamma: Float = 0.1) {
        precondition(zip(milestones, milestones.dropFirst()).allSatisfy { $0 < $1 },
                     "MultiStepSchedule: milestones \(milestones) are not strictly increasing")
        self.base = base
        self.milestones = milestones
        self.gamma = gamma
    }

    public func learningRate(atStep step: Int) -> Float {
        let passed = milestones.count { $0 <= step }
        return Float(Double(base) * pow(Double(gamma), Double(passed)))
    }
}
