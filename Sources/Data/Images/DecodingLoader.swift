import Engine
import Foundation

/// Batches from a file of encoded images: each sample's bytes are read, then decoded and transformed on
/// `workers` threads into the batch tensor (`ImageTransform`: RandomResizedCrop and flip for training, resize
/// and centre crop for evaluation).
///
/// A file whose bytes fit in `cacheBytes` is read once, whole; larger ones are read image by image, one read at a
/// time (the HDF5 library serialises them anyway), while the decoding, which is the work, runs in parallel.
public final class DecodingLoader: BatchSource, @unchecked Sendable {
    public let file: EncodedImageFile
    private let training: ImageTransform?
    private let evaluation: ImageTransform
    private let workers: Int
    private let cache: [UInt8]?
    private let lock = NSLock()

    /// A loader over `file` whose training batches use `training` (nil: the evaluation transform for both).
    public init(file: EncodedImageFile, training: ImageTransform?, evaluation: ImageTransform, workers: Int,
                cacheBytes: Int) throws(DataError) {
        precondition(training.map { $0.outputShape == evaluation.outputShape } ?? true, "DecodingLoader: shapes differ")
        self.file = file
        self.training = training
        self.evaluation = evaluation
        self.workers = max(1, workers)
        cache = file.totalBytes <= cacheBytes ? try file.allBytes() : nil
    }

    public var sampleShape: [Int] { evaluation.outputShape }
    public var isCached: Bool { cache != nil }
    public var count: Int { file.count }
    public var classNames: [String] { file.classNames }
    public var chunkRows: Int { file.chunkImages }
    public var chunkBytes: Int { EncodedImageWriter.chunkBytes }
    public var mean: [Double] { evaluation.mean }
    public var std: [Double] { evaluation.std }
    public var path: String { file.path }

    public func load(_ indices: [Int], epoch: Int) throws(DataError) -> Batch {
        try load(indices, epoch: epoch, transform: training ?? evaluation)
    }

    public func load(rows: Range<Int>) throws(DataError) -> Batch {
        try load(Array(rows), epoch: 0, transform: evaluation)
    }

    private func load(_ indices: [Int], epoch: Int, transform: ImageTransform) throws(DataError) -> Batch {
        let images = Tensor(zeros: [indices.count] + transform.outputShape)
        var encoded: [[UInt8]] = []
        encoded.reserveCapacity(indices.count)
        for index in indices {
            if let cache {
                encoded.append(Array(cache[Int(file.offsets[index])..<Int(file.offsets[index + 1])]))
            } else {
                lock.lock()
                defer { lock.unlock() }
                encoded.append(try file.bytes(of: index))
            }
        }
        let sampleCount = transform.outputShape.reduce(1, *)
        let failures = Failures()
        let threads = min(workers, indices.count)
        let (file, output, encodedImages) = (file, images, encoded)
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            let codec = ImageCodec()
            for row in stride(from: thread, to: indices.count, by: threads) {
                let index = indices[row], size = file.sizes[index]
                let failure = encodedImages[row].withUnsafeBytes { bytes -> String? in
                    do {
                        try transform.apply(bytes, width: size.width, height: size.height, index: index, epoch: epoch,
                                            codec: codec, into: output.pointer + row * sampleCount)
                        return nil
                    } catch {
                        return "\(error)"
                    }
                }
                if let failure { failures.add(index, failure) }
            }
        }
        if let (index, reason) = failures.first {
            throw .io(file: file.path, reason: "image \(index) cannot be decoded: \(reason)")
        }
        return Batch(images: images, labels: indices.map { Int(file.labels[$0]) }, indices: indices)
    }

    /// The decoding failures of a batch, from any thread; the lowest index is reported.
    private final class Failures: @unchecked Sendable {
        private let lock = NSLock()
        private var all: [(Int, String)] = []
        func add(_ index: Int, _ reason: String) { lock.withLock { all.append((index, reason)) } }
        var first: (Int, String)? { lock.withLock { all.min { $0.0 < $1.0 } } }
    }
}
