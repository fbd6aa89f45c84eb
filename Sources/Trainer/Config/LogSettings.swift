/// The `[log]` section: how often rank 0 reports training progress.
public struct LogSettings: Sendable, Equatable {
    /// Log loss, accuracy, learning rate and throughput every this many optimizer steps (`every_steps` ≥ 1,
    /// default 50).
    public var everySteps: Int

    /// Settings with the given values.
    public init(everySteps: Int = 50) {
        self.everySteps = everySteps
    }

    static let keys = ["every_steps"]

    init(from section: SectionReader) throws(ConfigError) {
        var section = section
        self.init(everySteps: try section.integer("every_steps", atLeast: 1) ?? 50)
        try section.finish(context: "[log]")
    }

    func write(to writer: inout TOMLWriter) {
        writer.section("log")
        writer.set("every_steps", everySteps)
    }
}
