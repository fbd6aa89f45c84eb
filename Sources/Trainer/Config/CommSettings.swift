import Comm

/// The `[comm]` section: how gradients travel, and how the ranks' collectives treat a rank that does not arrive.
public struct CommSettings: Sendable, Equatable {
    /// Name the late ranks after a collective has waited this many seconds for them (`stall_warning_seconds` > 0,
    /// default 60).
    public var stallWarningSeconds: Double
    /// End the job after a collective has waited this many seconds (`stall_timeout_seconds` ≥ 0, default 600;
    /// 0 waits forever).
    public var stallTimeoutSeconds: Double
    /// The size of a gradient bucket in MB (`bucket_mb` ≥ 0, default 25): each bucket's allreduce starts as soon as
    /// backward has passed it, the one at the end of the gradient buffer holding at most 1 MB so that sending starts
    /// early; 0 sends the whole buffer in one allreduce after backward.
    public var bucketMB: Double
    /// How gradients travel (`compression`, "none" or "bf16", default "none"): bfloat16 halves the bytes, with
    /// partial sums added in float32 at every hop.
    public var compression: GradientCompression

    /// The limit of the first bucket (the output layers' gradients), as PyTorch's DDP has it.
    static let firstBucketMB = 1.0

    /// Settings with the given values.
    public init(stallWarningSeconds: Double = 60, stallTimeoutSeconds: Double = 600, bucketMB: Double = 25,
                compression: GradientCompression = .none) {
        self.stallWarningSeconds = stallWarningSeconds
        self.stallTimeoutSeconds = stallTimeoutSeconds
        self.bucketMB = bucketMB
        self.compression = compression
    }

    static let keys = ["stall_warning_seconds", "stall_timeout_seconds", "bucket_mb", "compression"]

    init(from section: SectionReader) throws(ConfigError) {
        var section = section
        self.init(stallWarningSeconds: try section.number("stall_warning_seconds", .positive) ?? 60,
                  stallTimeoutSeconds: try section.number("stall_timeout_seconds", .nonNegative) ?? 600,
                  bucketMB: try section.number("bucket_mb", .nonNegative) ?? 25,
                  compression: try section.choice("compression", of: GradientCompression.self) ?? .none)
        try section.finish(context: "[comm]")
    }

    /// The reducer these settings ask for, summing `gradients` (whose parameter segments start at
    /// `segmentStarts`) over `communicator`'s ranks.
    public func makeReducer(communicator: any Communicator, gradients: UnsafeMutableBufferPointer<Float>,
                            segmentStarts: [Int]) -> any GradientReducer {
        guard bucketMB > 0, communicator.size > 1 else {
            return FlatReducer(communicator: communicator, gradients: gradients, compression: compression)
        }
        let bytes = { (megabytes: Double) in max(1, Int(megabytes * 1_048_576)) }
        let plan = BucketPlan(count: gradients.count, segmentStarts: segmentStarts, bucketBytes: bytes(bucketMB),
                              firstBucketBytes: bytes(min(bucketMB, Self.firstBucketMB)))
        return BucketedReducer(communicator: communicator, gradients: gradients, plan: plan, compression: compression)
    }

    /// The communicator's policy for these settings.
    public var stallPolicy: StallPolicy {
        StallPolicy(warningSeconds: stallWarningSeconds, timeoutSeconds: stallTimeoutSeconds)
    }

    func write(to writer: inout TOMLWriter) {
        writer.section("comm")
        writer.set("stall_warning_seconds", stallWarningSeconds)
        writer.set("stall_timeout_seconds", stallTimeoutSeconds)
        writer.set("bucket_mb", bucketMB)
        writer.set("compression", compression.rawValue)
    }
}
