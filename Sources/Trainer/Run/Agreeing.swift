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
