/// The `[checkpoint]` section: how often rank 0 saves a checkpoint and how many it keeps.
///
/// With neither interval set, a checkpoint is written only at the end of the run.
public struct CheckpointSettings: Sendable, Equatable {
    /// Save every this many optimizer steps (`every_steps` ≥ 1, default none).
    public var everySteps: Int?
    /// Save when this many minutes have passed since the last save (`every_minutes` > 0, default none).
    public var everyMinutes: Double?
    /// The number of most recent checkpoints kept on disk (`keep` ≥ 1, default 3).
    public var keep: Int

    /// Settings with the given values.
    public init(everySteps: Int? = nil, everyMinutes: Double? = nil, keep: Int = 3) {
        self.everySteps = everySteps
        self.everyMinutes = everyMinutes
        self.keep = keep
    }

    static let keys = ["every_steps", "every_minutes", "keep"]

    init(from section: SectionReader) throws(ConfigError) {
        var section = section
        self.init(everySteps: try section.integer("every_steps", atLeast: 1),
                  everyMinutes: try section.number("every_minutes", .positive),
                  keep: try section.integer("keep", atLeast: 1) ?? 3)
        try section.finish(context: "[checkpoint]")
    }

    func write(to writer: inout TOMLWriter) {
        writer.section("checkpoint")
        writer.set("every_steps", everySteps)
        writer.set("every_minutes", everyMinutes)
        writer.set("keep", keep)
    }
}
