/// Why a run could not start or continue, as one line a person can act on.
public enum TrainerError: Error, CustomStringConvertible {
    /// A mistake in the config, the data or the command line; the message names the file, key or value.
    case invalid(String)
    /// Another rank met an error and reported it; this rank only stops.
    case reportedElsewhere

    public var description: String {
        switch self {
        case .invalid(let message): message
        case .reportedElsewhere: "another rank reported an error"
        }
    }
}
