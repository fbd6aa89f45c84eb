import Engine
import Foundation

/// Reads samples of a dataset file of decoded images and turns them into normalised Float batches.
///
/// A file whose images fit in `cacheBytes` is read once, whole, into memory (sequential I/O, then no I/O at all);
/// larger files are read per sample through HDF5's chunk cache, which the sampler's chunk windows keep warm.
/// With `cropPadding`, training batches get the CIFAR augmentation: each image padded with that many black pixels
/// on every side, a random crop of its own size taken, and a horizontal flip with probability one half, every draw
/// from Philox keyed by (seed, epoch, sample index). Pixels are normalised with the file's own mean and std unless
/// given others (a validation split takes the training split's).
public final class BatchLoader: BatchSource, @unchecked Sendable {
    /// The file read.
    public let dataset: DatasetFile
    private let cache: [UInt8]?
    private let sampleBytes: Int
    private let augmentation: (padding: Int, seed: UInt64)?
    /// The per-channel normalisation of the inputs.
    public let mean: [Double], std: [Double]
    // (x / 255 - mean[c]) / std[c] for every byte value x of every channel c: one lookup per pixel.
    private let table: [Float]
    private let lock = NSLock()

    /// A loader over `dataset` that keeps it in memory when its images take at most `cacheBytes`, augments
    /// training batches when `cropPadding` is given, and normalises with `normalization` (nil: the file's own).
    public init(dataset: DatasetFile, cacheBytes: Int, cropPadding: Int? = nil, seed: UInt64 = 0,
                normalization: (mean: [Double], std: [Double])? = nil) throws(DataError) {
        self.dataset = dataset
        augmentation = cropPadding.map { ($0, seed) }
        sampleBytes = dataset.sampleShape.reduce(1, *)
        let channels = dataset.sampleShape[0]
        (mean, std) = normalization ?? (dataset.mean, dataset.std)
        precondition(mean.count == channels && std.count == channels, "BatchLoader: \(mean.count) means for \(channels) channels")
        var table = [Float](repeating: 0, count: channels * 256)
        for c in 0..<channels {
            for value in 0..<256 {
                table[c * 256 + value] = Float((Double(value) / 255 - mean[c]) / std[c])
            }
        }
        self.table = table
        if dataset.count * sampleBytes <= cacheBytes {
            var all = [UInt8](repeating: 0, count: dataset.count * sampleBytes)
            try all.withUnsafeMutableBufferPointer { (buffer) throws(DataError) in
                try dataset.readImages(rows: 0..<dataset.count, into: buffer.baseAddress!)
            }
            cache = all
        } else {
            cache = nil
        }
    }

    /// Whether the whole file is held in memory.
    public var isCached: Bool { cache != nil }
    public var sampleShape: [Int] { dataset.sampleShape }
    public var count: Int { dataset.count }
    public var classNames: [String] { dataset.classNames }
    public var chunkRows: Int { dataset.chunkRows }
    public var chunkBytes: Int { dataset.chunkRows * sampleBytes }
    public var path: String { dataset.path }

    /// The samples at `indices`, in that order, augmented for `epoch` when the loader augments.
    public func load(_ indices: [Int], epoch: Int) throws(DataError) -> Batch {
        let batch = try load(indices)
        if let augmentation { cropAndFlip(batch, padding: augmentation.padding, seed: augmentation.seed, epoch: epoch) }
        return batch
    }

    /// Philox stream of the crop-and-flip draws of `epoch`.
    static func stream(epoch: Int) -> UInt64 { 0xC1_0000 << 32 | UInt64(epoch) }

    /// Replaces every image of `batch` by a random crop of itself padded by `padding` black pixels, maybe mirrored.
    private func cropAndFlip(_ batch: Batch, padding: Int, seed: UInt64, epoch: Int) {
        let (channels, height, width) = (dataset.sampleShape[0], dataset.sampleShape[1], dataset.sampleShape[2])
        let philox = Philox(seed: seed), stream = Self.stream(epoch: epoch)
        var original = [Float](repeating: 0, count: sampleBytes)
        for (row, index) in batch.indices.enumerated() {
            let image = batch.images.pointer + row * sampleBytes
            original.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: image, count: sampleBytes) }
            let base = UInt64(index) * 3
            let top = philox.integer(below: 2 * padding + 1, stream: stream, index: base) - padding
            let left = philox.integer(below: 2 * padding + 1, stream: stream, index: base + 1) - padding
            let flip = philox.uniform(stream: stream, index: base + 2) < 0.5
            for c in 0..<channels {
                // A black pixel, normalised.
                let black = Float(-mean[c] / std[c])
                for y in 0..<height {
                    for x in 0..<width {
                        let (sy, sx) = (y + top, (flip ? width - 1 - x : x) + left)
                        let inside = sy >= 0 && sy < height && sx >= 0 && sx < width
                        image[(c * height + y) * width + x] = inside ? original[(c * height + sy) * width + sx] : black
                    }
                }
            }
        }
    }

    /// The samples at `indices`, in that order, as stored.
    public func load(_ indices: [Int]) throws(DataError) -> Batch {
        let images = Tensor(zeros: [indices.count] + dataset.sampleShape)
        if let cache {
            cache.withUnsafeBufferPointer { all in
                for (row, index) in indices.enumerated() {
                    normalize(all.baseAddress! + index * sampleBytes, into: images.pointer + row * sampleBytes)
                }
            }
        } else {
            var bytes = [UInt8](repeating: 0, count: sampleBytes)
            for (row, index) in indices.enumerated() {
                try bytes.withUnsafeMutableBufferPointer { (buffer) throws(DataError) in
                    try readLocked(rows: index..<(index + 1), into: buffer.baseAddress!)
                    normalize(buffer.baseAddress!, into: images.pointer + row * sampleBytes)
                }
            }
        }
        return Batch(images: images, labels: indices.map { Int(dataset.labels[$0]) }, indices: indices)
    }

    /// The contiguous samples `rows` (evaluation reads in file order).
    public func load(rows: Range<Int>) throws(DataError) -> Batch {
        guard cache == nil else { return try load(Array(rows)) }
        let images = Tensor(zeros: [rows.count] + dataset.sampleShape)
        var bytes = [UInt8](repeating: 0, count: rows.count * sampleBytes)
        try bytes.withUnsafeMutableBufferPointer { (buffer) throws(DataError) in
            try readLocked(rows: rows, into: buffer.baseAddress!)
            for row in 0..<rows.count {
                normalize(buffer.baseAddress! + row * sampleBytes, into: images.pointer + row * sampleBytes)
            }
        }
        return Batch(images: images, labels: rows.map { Int(dataset.labels[$0]) }, indices: Array(rows))
    }

    /// One reader at a time: the HDF5 library is not thread-safe, and the prefetching thread reads while the
    /// main thread may evaluate.
    private func readLocked(rows: Range<Int>, into destination: UnsafeMutablePointer<UInt8>) throws(DataError) {
        lock.lock()
        defer { lock.unlock() }
        try dataset.readImages(rows: rows, into: destination)
    }

    private func normalize(_ source: UnsafePointer<UInt8>, into destination: UnsafeMutablePointer<Float>) {
        let plane = sampleBytes / dataset.sampleShape[0]
        table.withUnsafeBufferPointer { table in
            for c in 0..<dataset.sampleShape[0] {
                let lookup = table.baseAddress! + c * 256
                let from = source + c * plane, to = destination + c * plane
                for i in 0..<plane { to[i] = lookup[Int(from[i])] }
            }
        }
    }
}
