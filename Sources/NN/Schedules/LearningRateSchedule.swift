/// The learning rate as a pure function of the optimizer step.
///
/// Steps count from 0 (the first update of training) and are always optimizer steps: a trainer that thinks in
/// epochs converts them (epochs times steps per epoch) before building a schedule. Because a schedule keeps no
/// history, a resumed run gets the same rates from the step count alone.
public protocol LearningRateSchedule: Sendable {
    /// The learning rate of the update at `step` (0-based).
    func learningRate(atStep step: Int) -> Float
}
