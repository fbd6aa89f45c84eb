/// Where a step's gradient reduction spent its time.
public struct ReductionTimes: Sendable, Equatable {
    /// Seconds the step waited in `finish()`: communication that backward did not hide.
    public var exposed: Double
    /// Seconds the reduction's collectives were in progress, hidden or not (waiting for peers included).
    public var busy: Double

    public init(exposed: Double, busy: Double) {
        self.exposed = exposed
        self.busy = busy
    }
}
