import CMPI

/// How far the MPI library lets threads call it, as granted by MPI_Init_thread.
public enum ThreadSupport: Int, Sendable, Comparable, CustomStringConvertible {
    /// Only one thread exists in the process.
    case single
    /// Only the thread that initialised MPI may call it.
    case funneled
    /// Any thread may call MPI, one at a time.
    case serialized
    /// Any thread may call MPI at any time.
    case multiple

    /// The level matching an MPI_THREAD_* constant.
    init(level: Int32) {
        switch level {
        case Int32(MPI_THREAD_SINGLE): self = .single
        case Int32(MPI_THREAD_FUNNELED): self = .funneled
        case Int32(MPI_THREAD_SERIALIZED): self = .serialized
        default: self = .multiple
        }
    }

    /// The MPI_THREAD_* constant for this level.
    var level: Int32 {
        switch self {
        case .single: Int32(MPI_THREAD_SINGLE)
        case .funneled: Int32(MPI_THREAD_FUNNELED)
        case .serialized: Int32(MPI_THREAD_SERIALIZED)
        case .multiple: Int32(MPI_THREAD_MULTIPLE)
        }
    }

    /// The MPI name of the level, e.g. "MPI_THREAD_SERIALIZED".
    public var description: String {
        switch self {
        case .single: "MPI_THREAD_SINGLE"
        case .funneled: "MPI_THREAD_FUNNELED"
        case .serialized: "MPI_THREAD_SERIALIZED"
        case .multiple: "MPI_THREAD_MULTIPLE"
        }
    }

    /// Orders the levels from least to most permissive.
    public static func < (lhs: ThreadSupport, rhs: ThreadSupport) -> Bool { lhs.rawValue < rhs.rawValue }
}
