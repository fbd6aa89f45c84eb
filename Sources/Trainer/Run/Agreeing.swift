import Comm

/// Runs `body` on every rank and agrees on the outcome, so that a mistake seen by some ranks (a missing file on
/// one node) stops all of them with one message, from the lowest failing rank, instead of leaving the others
/// waiting in a collective.
public func agreeing<T>(_ communicator: any Communicator, _ body: () throws -> T) throws(TrainerError) -> T {
    var outcome: Result<T, TrainerError>
    do {
        outcome = .success(try body())
    } catch let error as TrainerError {
        outcome = .failure(error)
    } catch {
        outcome = .failure(.invalid(String(describing: error)))
    }
    let failed: Int
    if case .failure = outcome { failed = communicator.rank } else { failed = Int.max }
    let first = communicator.allreduce(failed, .min)
    switch outcome {
    case .success(let value) where first == Int.max: return value
    case .failure(let error) where first == communicator.rank: throw .agreed(error.description)
    default: throw .reportedElsewhere(exitStatus: TrainerError.mistakeStatus)
    }
}

extension Communicator {
    /// After a collective that told every rank whether some rank failed: when one did, every rank stops, and the
    /// lowest failing rank reports its `failure` (one more collective, taken only then).
    func stopIfAnyRankFailed(_ anyFailed: Bool, failure: String?) throws(TrainerError) {
        guard anyFailed else { return }
        let first = allreduce(failure != nil ? rank : Int.max, .min)
        if first == rank, let failure { throw .agreed(failure) }
        throw TrainerError.agreed("").onOtherRanks
    }

    /// A run that stopped being finite, as every rank knows: rank 0 reports `message` with the newest checkpoint
    /// in `checkpointDirectory` (all of them are from before).
    func divergence(_ message: String, checkpointDirectory: String) -> TrainerError {
        guard rank == 0 else { return TrainerError.diverged("").onOtherRanks }
        let newest = CheckpointFile.newestValid(in: checkpointDirectory) { _ in }?.path
        return .diverged(message + "; " + (newest.map { "the newest checkpoint, \($0), is from before it" } ?? "no checkpoint was written")
                         + "; lower optimizer.lr or add warmup")
    }
}
