/// A linear warm-up in front of another schedule (Goyal et al. 2017).
///
/// The rate is the wrapped schedule's value times a factor that rises linearly from `startFactor` at step 0 to 1
/// at step `steps`, and is 1 from then on: startFactor + (1 - startFactor) * min(step, steps) / steps, as PyTorch's
/// `LinearLR` (end factor 1) chained with the wrapped scheduler. The wrapped schedule counts its steps from the
/// start of training, not from the end of the warm-up, so a decay at step 30 of the wrapped schedule still happens
/// at step 30. Goyal et al. warm up from base to k * base over 5 epochs: wrap a schedule of base k * base, with
/// `startFactor` 1 / k and `steps` 5 epochs' worth of steps.
public struct WarmupSchedule: LearningRateSchedule {
    /// The schedule followed during and after the warm-up.
    public let wrapped: any LearningRateSchedule
    /// The number of warm-up steps.
    public let steps: Int
    /// The fraction of the wrapped schedule's rate at step 0.
    public let startFactor: Float

    /// `wrapped`, scaled by a factor rising linearly from `startFactor` to 1 over the first `steps` steps.
    public init(wrapping wrapped: any LearningRateSchedule, steps: Int, startFactor: Float) {
        precondition(steps >= 0, "WarmupSchedule: warm-up steps \(steps) is negative")
        precondition(startFactor >= 0 && startFactor <= 1, "WarmupSchedule: start factor \(startFactor) is outside [0, 1]")
        self.wrapped = wrapped
        self.steps = steps
        self.startFactor = startFactor
    }

    public func learningRate(atStep step: Int) -> Float {
        let rate = wrapped.learningRate(atStep: step)
        guard step < steps else { return rate }
        let progress = Double(max(step, 0)) / Double(steps)
        return Float(Double(rate) * (Double(startFactor) + (1 - Double(startFactor)) * progress))
    }
}
