import ArgumentParser
import Trainer

/// `dtrain eval CONFIG.toml --checkpoint FILE`: top-1 (and top-5) of a checkpoint on the config's validation set.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Evaluate a checkpoint on the config's validation data.")

    @Argument(help: "The experiment's TOML config (its data.val and model).")
    var config: String

    @Option(help: "The checkpoint (or model file) to evaluate.")
    var checkpoint: String

    @Option(name: .customLong("set"), help: "Override a config key (repeatable).")
    var overrides: [String] = []

    func run() throws {
        Launch.withCommunicator { communicator in
            let loaded = try Launch.loadConfig(config, overrides: overrides, communicator: communicator)
            try Trainer(loaded: loaded, communicator: communicator).evaluate(checkpoint: checkpoint)
            return 0
        }
    }
}
