import Foundation
import Synchronization

/// SIGTERM, SIGUSR1 (what Slurm and mpirun send before preemption) and SIGINT, turned into a request to stop at
/// the next step boundary after writing a checkpoint.
///
/// The handler only sets a flag; the ranks agree on it in the step's statistics allreduce, so they all stop after
/// the same step even though each received the signal at a different moment.
public enum StopSignal {
    private static let received = Atomic<Int32>(0)

    /// The exit status of a run stopped by a signal after its checkpoint was written (EX_TEMPFAIL: run it again).
    public static let exitStatus: Int32 = 75

    /// Installs the handlers (once per process).
    ///
    /// SIGPIPE is ignored too: while mpirun shuts a job down it stops forwarding the ranks' output, and a rank
    /// writing its log would otherwise die before it could write its checkpoint.
    public static func install() {
        for signalNumber in [SIGTERM, SIGUSR1, SIGINT] {
            signal(signalNumber) { number in StopSignal.received.store(number, ordering: .relaxed) }
        }
        signal(SIGPIPE, SIG_IGN)
    }

    /// The signal received since the start, or 0.
    public static var pending: Int32 { received.load(ordering: .relaxed) }
}
