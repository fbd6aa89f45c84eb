/// The reduction applied by allreduce.
public enum ReduceOperation: Sendable {
    /// Elementwise sum over the ranks.
    case sum
    /// Elementwise maximum over the ranks.
    case max
    /// Elementwise minimum over the ranks.
    case min
}
