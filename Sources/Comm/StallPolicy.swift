/// How long a collective may wait for late ranks before it says so, and before it ends the job.
public struct StallPolicy: Sendable, Equatable {
    /// Seconds of waiting after which the late ranks are named in one line.
    public var warningSeconds: Double
    /// Seconds of waiting after which the job ends with `MPICommunicator.stallStatus`; 0 waits forever.
    public var timeoutSeconds: Double

    /// A warning after a minute and the end of the job after ten.
    public static let standard = StallPolicy(warningSeconds: 60, timeoutSeconds: 600)

    public init(warningSeconds: Double, timeoutSeconds: Double) {
        self.warningSeconds = warningSeconds
        self.timeoutSeconds = timeoutSeconds
    }
}
