import Foundation

/// This rank's requests before each step: a stop on a signal, a checkpoint when rank 0's clock says it is time.
///
/// Each rank only proposes; the step's statistics allreduce sums the proposals, so every rank stops or
/// checkpoints after the same step even though each received its signal at another moment.
final class RunControl {
    private let rank: Int
    private let everyMinutes: Double?
    private var lastCheckpoint = Date()

    init(rank: Int, everyMinutes: Double?) {
        self.rank = rank
        self.everyMinutes = everyMinutes
    }

    /// What this rank asks for now.
    func requests() -> RunRequests {
        let timed = everyMinutes.map { rank == 0 && Date().timeIntervalSince(lastCheckpoint) >= 60 * $0 } ?? false
        return RunRequests(checkpoint: timed, stop: StopSignal.pending != 0)
    }

    /// A checkpoint was written: the timed interval starts again.
    func checkpointWritten() {
        lastCheckpoint = Date()
    }
}
