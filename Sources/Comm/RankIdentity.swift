/// Where a rank runs, for messages that name it: "rank 3 (host node07, pid 41233)".
public struct RankIdentity: Sendable, Equatable, CustomStringConvertible {
    /// The rank's index in the job.
    public let rank: Int
    /// The name MPI gives the rank's node.
    public let host: String
    /// The rank's process id on that node.
    public let pid: Int32

    public var description: String { "rank \(rank) (host \(host), pid \(pid))" }
}
