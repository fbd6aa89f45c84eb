/// The validation samples one rank evaluates: a contiguous slice, so every sample is evaluated exactly once
/// whatever the number of ranks, with no padding (the ranks sum their counts, not their averages).
public struct EvaluationShard: Sendable, Equatable {
    /// The samples of this rank, in file order.
    public let rows: Range<Int>

    /// The slice of `count` samples that rank `rank` of `worldSize` evaluates; sizes differ by at most one.
    public init(count: Int, rank: Int, worldSize: Int) {
        let start = count * rank / worldSize, end = count * (rank + 1) / worldSize
        rows = start..<end
    }

    /// The shard cut into consecutive batches of at most `batch` samples.
    public func batches(of batch: Int) -> [Range<Int>] {
        stride(from: rows.lowerBound, to: rows.upperBound, by: batch).map { $0..<min($0 + batch, rows.upperBound) }
    }
}
