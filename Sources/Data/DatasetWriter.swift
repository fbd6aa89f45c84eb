import Foundation
import HDF5

/// Writes one dataset file in the layout of datasets/README.md, atomically: rows go to `<output>.tmp`, which
/// `finish` renames to `output`; a writer released unfinished deletes its temporary file.
///
/// Rows are appended in order, a chunk at a time, so a file larger than memory never has to be held whole; the
/// per-channel mean and standard deviation are accumulated on the way.
final class DatasetWriter {
    /// The rows per chunk that packers write: 256 images, fewer if that exceeds 1 MiB, at least one.
    ///
    /// 256 MNIST images are 200 KB; six 3x224x224 images are ~0.9 MB. Chunks of this size are what a reader
    /// fetches per request, large enough for sequential disk reads and small enough to shuffle among.
    static func chunkRows(count: Int, sampleBytes: Int) -> Int {
        max(1, min(count, 256, (1 << 20) / max(sampleBytes, 1)))
    }

    let output: String
    let count: Int
    let sampleShape: [Int]
    let chunkRows: Int
    private let temporary: String
    private var file: HDF5File?
    private var images: HDF5Dataset?
    private var written = 0
    /// Per channel, the sum of the pixel bytes and the sum of their squares: exact in 64-bit integers.
    private var sums: [UInt64]
    private var squares: [UInt64]

    /// Creates `<output>.tmp` (and any missing parent folder) with an `images` dataset of `count` x `sampleShape`.
    init(output: String, count: Int, sampleShape: [Int]) throws(DataError) {
        self.output = output
        self.count = count
        self.sampleShape = sampleShape
        temporary = output + ".tmp"
        let sampleBytes = sampleShape.reduce(1, *)
        chunkRows = Self.chunkRows(count: count, sampleBytes: sampleBytes)
        sums = Array(repeating: 0, count: sampleShape[0])
        squares = Array(repeating: 0, count: sampleShape[0])
        let folder = (output as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw .io(file: folder, reason: "cannot create the folder (\(error.localizedDescription))")
            }
        }
        do throws(HDF5Error) {
            let file = try HDF5File.create(temporary)
            self.file = file
            images = try file.createDataset("images", type: .uint8, shape: [count] + sampleShape,
                                            chunk: [chunkRows] + sampleShape)
        } catch {
            throw .hdf5(error)
        }
    }

    deinit {
        if file != nil {
            images = nil
            file = nil
            unlink(temporary)
        }
    }

    /// Appends the next `rows` images (C x H x W bytes each) from `pixels`.
    func append(_ pixels: UnsafeBufferPointer<UInt8>, rows: Int) throws(DataError) {
        guard let images else { preconditionFailure("DatasetWriter: append after finish") }
        let range = written..<(written + rows)
        do { try images.write(rows: range, from: pixels) } catch { throw .hdf5(error) }
        accumulate(UnsafeBufferPointer(rebasing: pixels[0..<(rows * sampleShape.reduce(1, *))]))
        written += rows
    }

    /// Writes the labels and attributes, closes the file, flushes it to disk and renames it to `output`.
    func finish(labels: [Int32], classNames: [String], source: String) throws(DataError) {
        precondition(written == count && labels.count == count,
                     "DatasetWriter: \(written) rows written, \(labels.count) labels, expected \(count)")
        guard let file else { preconditionFailure("DatasetWriter: finish twice") }
        let (mean, std) = statistics()
        do throws(HDF5Error) {
            let labelData = try file.createDataset("labels", type: .int32, shape: [count])
            try labelData.writeAll(labels)
            let attributes = try file.attributes
            try attributes.set("format", DatasetFile.format)
            try attributes.set("version", DatasetFile.version)
            try attributes.set("classes", classNames)
            try attributes.set("mean", mean)
            try attributes.set("std", std)
            try attributes.set("source", source)
            images = nil
            try file.close()
        } catch {
            throw .hdf5(error)
        }
        self.file = nil
        do { try DurableRename.move(temporary, to: output) } catch {
            unlink(temporary)
            throw .hdf5(error)
        }
    }

    private func accumulate(_ pixels: UnsafeBufferPointer<UInt8>) {
        let plane = sampleShape[1] * sampleShape[2]
        let channels = sampleShape[0]
        var image = 0
        while image < pixels.count {
            for channel in 0..<channels {
                var sum: UInt64 = 0, square: UInt64 = 0
                let start = image + channel * plane
                for index in start..<(start + plane) {
                    let value = UInt64(pixels[index])
                    sum &+= value
                    square &+= value &* value
                }
                sums[channel] &+= sum
                squares[channel] &+= square
            }
            image += channels * plane
        }
    }

    /// Mean and population standard deviation per channel, of pixel values scaled to [0, 1].
    private func statistics() -> (mean: [Double], std: [Double]) {
        let n = Double(count * sampleShape[1] * sampleShape[2])
        let mean = sums.map { Double($0) / n / 255 }
        let std = zip(squares, mean).map { square, mean in
            (max(Double(square) / n / (255 * 255) - mean * mean, 0)).squareRoot()
        }
        return (mean, std)
    }
}
