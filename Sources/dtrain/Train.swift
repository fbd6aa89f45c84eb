import ArgumentParser
import Trainer

/// `dtrain [train] CONFIG.toml [--set section.key=value]...`
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Train the model a config describes (the default command).")

    @Argument(help: "The experiment's TOML config.")
    var config: String

    @Option(name: .customLong("set"), help: "Override a config key, e.g. --set optimizer.lr=0.05 (repeatable).")
    var overrides: [String] = []

    func run() throws {
        Launch.withCommunicator { communicator in
            let loaded = try Launch.loadConfig(config, overrides: overrides, communicator: communicator)
            _ = try Trainer(loaded: loaded, communicator: communicator).run()
        }
    }
}
