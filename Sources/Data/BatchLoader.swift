import Engine
import Foundation

/// Reads samples of a dataset file and turns them into normalised Float batches.
///
/// A file whose images fit in `cacheBytes` is read once, whole, into memory (sequential I/O, then no I/O at all);
/// larger files are read per sample through HDF5's chunk cache, which the sampler's chunk windows keep warm.
public final class BatchLoader: @unchecked Sendable {
    /// The file read.
    public let dataset: DatasetFile
    private let cache: [UInt8]?
    private let sampleBytes: Int
    // (x / 255 - mean[c]) / std[c] for every byte value x of every channel c: one lookup per pixel.
    private let table: [Float]
    private let lock = NSLock()

    /// A loader over `dataset` that keeps it in memory when its images take at most `cacheBytes`.
    public init(dataset: DatasetFile, cacheBytes: Int) throws(DataError) {
        self.dataset = dataset
        sampleBytes = dataset.sampleShape.reduce(1, *)
        let channels = dataset.sampleShape[0]
        var table = [Float](repeating: 0, count: channels * 256)
        for c in 0..<channels {
            for value in 0..<256 {
                table[c * 256 + value] = Float((Double(value) / 255 - dataset.mean[c]) / dataset.std[c])
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

    /// The samples at `indices`, in that order.
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
