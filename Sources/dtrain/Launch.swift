import Comm
import Engine
import Foundation
import Trainer

/// Starts MPI, runs a body on every rank, and turns any error into one line on stderr and a non-zero exit status.
enum Launch {
    /// Runs `body` with the job's communicator and exits with the status it returns or its error's.
    ///
    /// An error every rank knows of ends every rank with MPI finalised; any other error ends the whole job through
    /// the communicator's exit handler (MPI_Abort), since the other ranks may be waiting in a collective.
    static func withCommunicator(_ body: (MPICommunicator) throws -> Int32) -> Never {
        // Before MPI and any other thread start: this may re-execute the program with faster BLAS kernels.
        BLASKernelChoice.applyFastest()
        let communicator = MPICommunicator.start()
        let status: Int32
        do {
            // The engine's threads start after MPI, and only for the work of this rank's share of the cores.
            let threads = ComputeThreads.perRank(ranksOnNode: communicator.localSize)
            status = try ComputeThreads.with(threads: threads) { try body(communicator) }
        } catch {
            let trainerError = error as? TrainerError ?? .invalid(String(describing: error))
            if case .reportedElsewhere = trainerError {} else {
                let prefix = communicator.size > 1 && communicator.rank != 0 ? "rank \(communicator.rank): " : ""
                FileHandle.standardError.write("dtrain: \(prefix)\(trainerError)\n".data(using: .utf8)!)
            }
            if trainerError.isKnownToEveryRank { communicator.finish() }
            status = trainerError.exitStatus
        }
        exit(status)
    }

    /// Loads the config on every rank; a rank that cannot read it stops the others too.
    static func loadConfig(_ path: String, overrides: [String], communicator: any Communicator) throws -> LoadedConfig {
        try agreeing(communicator) {
            let loaded = try ConfigLoader.load(path: path, overrides: overrides)
            // Rank 0 alone creates the run directory, so it alone checks that nothing stands in the way.
            if communicator.rank == 0 { try loaded.config.run.checkOutputDirectory() }
            return loaded
        }
    }
}
