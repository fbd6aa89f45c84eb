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
    /// The side of the square network input made from encoded images (`image_size` ≥ 1; required for them, and
    /// not used for decoded images, which enter the network at their stored size).
    public var imageSize: Int?
    /// Evaluation resizes the shorter side of encoded images to this before the centre crop (`resize` ≥
    /// `image_size`, default image_size x 8 / 7: 256 for 224).
    public var resize: Int?
    /// Training augmentation (`augment`): "none", "crop_flip" (decoded images: pad by `crop_padding`, random
    /// crop, flip) or "random_resized_crop" (encoded images: RandomResizedCrop to `image_size`, flip); default
    /// random_resized_crop for encoded images and none for decoded ones.
    public var augment: Augmentation?
    /// The padding of crop_flip (`crop_padding` ≥ 0, default 4).
    public var cropPadding: Int
    /// Threads per rank that decode encoded images (`workers` ≥ 1, default 2).
    public var workers: Int

    /// The training augmentations.
    public enum Augmentation: String, Sendable, CaseIterable {
        case none, cropFlip = "crop_flip", randomResizedCrop = "random_resized_crop"
    }

    /// Settings with the given values; the evaluation batch defaults to the global batch.
    public init(train: String, validation: String? = nil, globalBatch: Int, evalBatch: Int? = nil,
                shuffle: Bool = true, cacheMB: Int = 4096, imageSize: Int? = nil, resize: Int? = nil,
                augment: Augmentation? = nil, cropPadding: Int = 4, workers: Int = 2) {
        self.train = train
        self.validation = validation
        self.globalBatch = globalBatch
        self.evalBatch = evalBatch ?? globalBatch
        self.shuffle = shuffle
        self.cacheMB = cacheMB
        self.imageSize = imageSize
        self.resize = resize
        self.augment = augment
        self.cropPadding = cropPadding
        self.workers = workers
    }

    static let keys = ["train", "val", "global_batch", "eval_batch", "shuffle", "cache_mb", "image_size", "resize",
                       "augment", "crop_padding", "workers"]

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
                  cacheMB: try section.integer("cache_mb", atLeast: 0) ?? 4096,
                  imageSize: try section.integer("image_size", atLeast: 1),
                  resize: try section.integer("resize", atLeast: 1),
                  augment: try section.choice("augment", of: Augmentation.self),
                  cropPadding: try section.integer("crop_padding", atLeast: 0) ?? 4,
                  workers: try section.integer("workers", atLeast: 1) ?? 2)
        if let resize = self.resize, let imageSize = self.imageSize, resize < imageSize {
            throw section.outOfRange("resize", "must be ≥ data.image_size = \(imageSize)", "\(resize)")
        }
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
        writer.set("image_size", imageSize)
        writer.set("resize", resize)
        writer.set("augment", augment?.rawValue)
        writer.set("crop_padding", cropPadding)
        writer.set("workers", workers)
    }
}
