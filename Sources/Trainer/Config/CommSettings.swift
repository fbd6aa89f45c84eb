import Comm

/// The `[comm]` section: how the ranks' collectives treat a rank that does not arrive.
public struct CommSettings: Sendable, Equatable {
    /// Name the late ranks after a collective has waited this many seconds for them (`stall_warning_seconds` > 0,
    /// default 60).
    public var stallWarningSeconds: Double
    /// End the job after a collective has waited this many seconds (`stall_timeout_seconds` ≥ 0, default 600;
    /// 0 waits forever).
    public var stallTimeoutSeconds: Double

    /// Settings with the given values.
    public init(stallWarningSeconds: Double = 60, stallTimeoutSeconds: Double = 600) {
        self.stallWarningSeconds = stallWarningSeconds
        self.stallTimeoutSeconds = stallTimeoutSeconds
    }

    static let keys = ["stall_warning_seconds", "stall_timeout_seconds"]

    init(from section: SectionReader) throws(ConfigError) {
        var section = section
        self.init(stallWarningSeconds: try section.number("stall_warning_seconds", .positive) ?? 60,
                  stallTimeoutSeconds: try section.number("stall_timeout_seconds", .nonNegative) ?? 600)
        try section.finish(context: "[comm]")
    }

    /// The communicator's policy for these settings.
    public var stallPolicy: StallPolicy {
        StallPolicy(warningSeconds: stallWarningSeconds, timeoutSeconds: stallTimeoutSeconds)
    }

    func write(to writer: inout TOMLWriter) {
        writer.section("comm")
        writer.set("stall_warning_seconds", stallWarningSeconds)
        writer.set("stall_timeout_seconds", stallTimeoutSeconds)
    }
}
