import ArgumentParser
import Trainer

/// `dtrain bench CONFIG.toml [--steps N] [--profile]`: images per second and where the time goes, from a few steps.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure training throughput of a config.")

    @Argument(help: "The experiment's TOML config.")
    var config: String

    @Option(help: "Timed steps (after two warm-up steps).")
    var steps: Int = 10

    @Flag(help: "Also print the time of every layer's forward and backward pass.")
    var profile = false

    @Option(name: .customLong("set"), help: "Override a config key (repeatable).")
    var overrides: [String] = []

    func run() throws {
        Launch.withCommunicator { communicator in
            let loaded = try Launch.loadConfig(config, overrides: overrides, communicator: communicator)
            try Trainer(loaded: loaded, communicator: communicator).benchmark(steps: steps, profile: profile)
            return 0
        }
    }
}
