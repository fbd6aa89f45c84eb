/// Sums values over the ranks of a data-parallel job, for layers whose statistics span the global batch
/// (synchronised batch norm).
///
/// Every rank calls it at the same points of forward and backward with the same counts; on return every rank's
/// `values` hold the sums.
public protocol CrossRankSum: AnyObject {
    /// Replaces every element of `values` with its sum over the ranks.
    func sumOverRanks(_ values: UnsafeMutableBufferPointer<Double>)
}
