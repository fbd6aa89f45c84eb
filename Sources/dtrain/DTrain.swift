import ArgumentParser

/// The dtrain command line: `dtrain CONFIG.toml` trains; subcommands pack datasets and benchmark configs.
@main
struct DTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dtrain",
        abstract: "Data-parallel neural-network training on CPUs under MPI.",
        discussion: """
            Run one rank for debugging (dtrain CONFIG.toml) or many under MPI (mpirun -n 8 dtrain CONFIG.toml).
            Exit status: 0 done, 2 a mistake in the config, data or command line (one line names it).
            """,
        subcommands: [Train.self, Eval.self, Inspect.self, Bench.self, BenchLoader.self, Pack.self, GradCheck.self, Predict.self, Plot.self, Config.self],
        defaultSubcommand: Train.self)
}
