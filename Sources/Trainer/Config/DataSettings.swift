/// The `[data]` section: the HDF5 files to train and evaluate on and how they are batched.
///
/// Relative paths are taken relative to the working directory the trainer runs in, as on its command line.
public struct DataSettings: Sendable, Equatable {
    /// The training set (`train`, required).
    public var train: String
    /// The validation set (`val`, default none: no evaluation).
    public var validation: String?
    /// The samples per optimizer step summed over all ranks (`global_batch` ≥ 1, required); each of N ranks
    /// takes global_batch / N of them.
    public var globalBatch: Int
    /// The samples per evaluation batch over all ranks (`eval_batch` ≥ 1, default `global_batch`).
    public var evalBatch: Int
    /// Whether each epoch visits the training set in a fresh order (`shuffle`, default true).
    public var shuffle: Bool
    /// Datasets up to this many MiB are held in memory instead of read from disk (`cache_mb` ≥ 0, default 4096).
    public var cacheMB: Int

    /// Settings with the given values; the evaluation batch defaults to the global batch.
    public init(train: String, validation: String? = nil, globalBatch: Int, evalBatch: Int? = nil,
                shuffle: Bool = true, cacheMB: Int = 4096) {
        self.train = train
        self.validation = validation
        self.globalBatch = globalBatch
        self.evalBatch = evalBatch ?? globalBatch
        self.shuffle = shuffle
        self.cacheMB = cacheMB
    }

    static let keys = ["train", "val", "global_batch", "eval_batch", "shuffle", "cache_mb"]

    init(from section: SectionReader) throws(ConfigError) {
        var section = section
        guard let train = try section.nonEmptyString("train") else {
            throw section.missing("train", expected: "a string (the training set's HDF5 file)")
        }
        guard let globalBatch = try section.integer("global_batch", atLeast: 1) else {
            throw section.missing("global_batch", expected: "an integer ≥ 1 (samples per step over all ranks)")
        }
        self.init(train: train, validation: try section.nonEmptyString("val"), globalBatch: globalBatch,
                  evalBatch: try section.integer("eval_batch", atLeast: 1), shuffle: try section.boolean("shuffle") ?? true,
                  cacheMB: try section.integer("cache_mb", atLeast: 0) ?? 4096)
        try section.finish(context: "[data]")
    }

    func write(to writer: inout TOMLWriter) {
        writer.section("data")
        writer.set("train", train)
        writer.set("val", validation)
        writer.set("global_batch", globalBatch)
        writer.set("eval_batch", evalBatch)
        writer.set("shuffle", shuffle)
        writer.set("cache_mb", cacheMB)
    }
}
