/// When a run writes a checkpoint: every `checkpoint.every_steps` steps, at the end of every epoch and of the run,
/// and whenever the ranks agreed on a request (timed, or a stop).
struct CheckpointPolicy {
    let everySteps: Int?
    let totalSteps: Int

    /// Whether a checkpoint is due after global step `step`.
    func isDue(after step: Int, endOfEpoch: Bool, requests: RunRequests) -> Bool {
        let periodic = everySteps.map { step % $0 == 0 } ?? false
        return periodic || endOfEpoch || step == totalSteps || requests.checkpoint || requests.stop
    }
}
