/// Why a run could not start or continue, as one line a person can act on.
///
/// Whether the other ranks know of the error decides how the job ends: an error every rank met (or agreed on
/// through a collective) lets every rank finalise MPI and exit with the same status; an error one rank met alone
/// ends the whole job through MPI_Abort, because the other ranks may be waiting in a collective.
public enum TrainerError: Error, CustomStringConvertible {
    /// A mistake in the config, the data or the command line, met by this rank alone; the message names the file,
    /// key or value.
    case invalid(String)
    /// A mistake every rank knows of (from the same config, or agreed on through a collective); this rank reports it.
    case agreed(String)
    /// The loss, a gradient or a parameter stopped being finite; every rank knows, and this rank reports it.
    case diverged(String)
    /// Another rank reports an error every rank knows of; this rank only stops, with the reporter's exit status.
    case reportedElsewhere(exitStatus: Int32)

    /// The exit status for a user mistake.
    public static let mistakeStatus: Int32 = 2
    /// The exit status for a run whose numbers stopped being finite.
    public static let divergedStatus: Int32 = 5

    /// The status every rank exits with.
    public var exitStatus: Int32 {
        switch self {
        case .invalid, .agreed: Self.mistakeStatus
        case .diverged: Self.divergedStatus
        case .reportedElsewhere(let status): status
        }
    }

    /// Whether every rank of the job stops with this error, so that none is left waiting in a collective.
    public var isKnownToEveryRank: Bool {
        if case .invalid = self { false } else { true }
    }

    /// The error the other ranks throw when this rank reports this one.
    var onOtherRanks: TrainerError { .reportedElsewhere(exitStatus: exitStatus) }

    public var description: String {
        switch self {
        case .invalid(let message), .agreed(let message), .diverged(let message): message
        case .reportedElsewhere: "another rank reported an error"
        }
    }
}
