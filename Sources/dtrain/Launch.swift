import Comm
import Foundation
import Trainer

/// Starts MPI, runs a body on every rank, and turns any error into one line on stderr and exit status 2.
enum Launch {
    /// Runs `body` with the job's communicator and finalises MPI on every way out; `body` returns the exit status.
    static func withCommunicator(_ body: (MPICommunicator) throws -> Int32) -> Never {
        let communicator = MPICommunicator.start()
        var status: Int32 = 0
        do {
            status = try body(communicator)
        } catch TrainerError.reportedElsewhere {
            status = 2
        } catch {
            let prefix = communicator.size > 1 && communicator.rank != 0 ? "rank \(communicator.rank): " : ""
            FileHandle.standardError.write("dtrain: \(prefix)\(error)\n".data(using: .utf8)!)
            status = 2
        }
        communicator.finish()
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
