/// Where a run's batches come from: a loader over one dataset file, whichever its layout.
public protocol BatchSource: AnyObject, Sendable {
    /// The shape of one network input, [C, H, W].
    var sampleShape: [Int] { get }
    /// Whether the file's contents are held in memory.
    var isCached: Bool { get }
    /// The number of samples.
    var count: Int { get }
    /// The class names.
    var classNames: [String] { get }
    /// The samples per stored chunk (what the sampler's shuffle windows keep together).
    var chunkRows: Int { get }
    /// The bytes one stored chunk takes, for sizing the shuffle windows.
    var chunkBytes: Int { get }
    /// The per-channel normalisation the inputs were made with.
    var mean: [Double] { get }
    var std: [Double] { get }
    /// The file's path.
    var path: String { get }
    /// The training inputs of the samples at `indices` in `epoch` (augmented, if the loader augments).
    func load(_ indices: [Int], epoch: Int) throws(DataError) -> Batch
    /// The evaluation inputs of the contiguous samples `rows`.
    func load(rows: Range<Int>) throws(DataError) -> Batch
}
