/// The collectives data-parallel training needs, across the ranks of one job.
///
/// Every rank must issue the same collectives in the same order with the same counts; a collective inside a branch
/// that only some ranks take blocks the others forever. `agree(_:)` lets callers check that ranks are in step before
/// the first real collective.
public protocol Communicator: AnyObject {
    /// This process's index in the job, from 0 to `size - 1`.
    var rank: Int { get }
    /// The number of ranks in the job.
    var size: Int { get }
    /// What the ranks are doing ("step 120"), named with the late ranks when a collective waits for them.
    var activity: String { get set }
    /// When a collective that waits for late ranks names them, and when it ends the job.
    var stallPolicy: StallPolicy { get set }

    /// Replaces every element of `buffer`, on every rank, with the reduction of that element over all ranks.
    func allreduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ operation: ReduceOperation)
    /// Replaces every element of `buffer`, on every rank, with the reduction of that element over all ranks.
    func allreduce(_ buffer: UnsafeMutableBufferPointer<Double>, _ operation: ReduceOperation)
    /// Replaces every element of `buffer`, on every rank, with the reduction of that element over all ranks.
    func allreduce(_ buffer: UnsafeMutableBufferPointer<Int64>, _ operation: ReduceOperation)
    /// Replaces every bfloat16 element of `buffer`, on every rank, with its sum over all ranks, where partial
    /// sums are added in float32 and rounded to bfloat16 at every hop (compressed gradients).
    func allreduceBFloat16Sum(_ buffer: UnsafeMutableBufferPointer<UInt16>)
    /// Copies the bytes of `root`'s buffer into the buffer of every other rank; all buffers have the same length.
    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int)
    /// Returns once every rank has entered the barrier.
    func barrier()
    /// Ends every rank of the job with `code` (after the caller printed its message).
    func abort(code: Int32) -> Never
}
