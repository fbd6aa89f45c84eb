import ArgumentParser
import Trainer

/// `dtrain [train] CONFIG.toml [--set section.key=value]...`
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the model a config describes (the default command).",
        discussion: """
            SIGTERM, SIGUSR1 and SIGINT stop every rank at the next step boundary after writing a checkpoint; the
            exit status is then 75, and the same command continues the run.
            """)

    @Argument(help: "The experiment's TOML config.")
    var config: String

    @Option(name: .customLong("set"), help: "Override a config key, e.g. --set optimizer.lr=0.05 (repeatable).")
    var overrides: [String] = []

    @Option(help: ArgumentHelp("Continue from the newest valid checkpoint of the run directory (auto), start afresh (never), or continue from a checkpoint file.",
                               valueName: "auto|never|PATH"))
    var resume: String = "auto"

    func run() throws {
        let choice: Trainer.Resume = switch resume {
        case "auto": .auto
        case "never": .never
        default: .path(resume)
        }
        Launch.withCommunicator { communicator in
            // After MPI_Init, which installs handlers of its own.
            StopSignal.install()
            let loaded = try Launch.loadConfig(config, overrides: overrides, communicator: communicator)
            let summary = try Trainer(loaded: loaded, communicator: communicator).run(resume: choice)
            return summary.stoppedBySignal ? StopSignal.exitStatus : 0
        }
    }
}
