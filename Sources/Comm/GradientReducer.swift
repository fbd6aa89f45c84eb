/// Sums a model's flat gradient buffer over the ranks, told by backward which part of it is final.
///
/// A backward pass in reverse graph order finishes the gradients from some offset to the end of the buffer, then
/// from an earlier offset, and so on: `gradientsReady(from:)` passes those offsets (never increasing within a
/// step), and `finish()` returns once the whole buffer holds the sum over all ranks. A reducer issues the same
/// collectives in the same order on every rank whatever it was told (a rank that skipped backward, because its
/// batch could not be read, only calls `finish()`), and no other collective may start between the first
/// `gradientsReady(from:)` of a step and the return of `finish()` except through `sumInOrder(_:)`, or the ranks
/// could pair different collectives.
public protocol GradientReducer: AnyObject, CustomStringConvertible {
    /// Every gradient from `offset` to the end of the buffer is final for this step.
    func gradientsReady(from offset: Int)
    /// Returns once every element of the buffer holds its sum over the ranks; the next step starts afresh.
    func finish() -> ReductionTimes
    /// Replaces `values` with their sums over the ranks now, in order with the buckets already on their way: a
    /// collective the step itself needs while gradients may be in flight (synchronised batch norm's statistics).
    func sumInOrder(_ values: UnsafeMutableBufferPointer<Double>)
}
