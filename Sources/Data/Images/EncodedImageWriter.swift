import Foundation
import HDF5

/// Writes a dataset file of encoded images (layout version 2 of datasets/README.md), atomically: images go to
/// `<output>.tmp`, which `finish` renames to `output`; a writer released unfinished deletes its temporary file.
///
/// Images are appended in order as their file bytes; the per-channel mean and standard deviation come from the
/// pixel statistics the caller accumulates.
final class EncodedImageWriter {
    /// Bytes per chunk of `encoded`: a reader fetching one image touches one or two chunks.
    static let chunkBytes = 1 << 20

    private let output: String, temporary: String
    private var file: HDF5File?
    private var encoded: HDF5Dataset?
    private var offsets: [Int64] = [0]
    private var sizes: [Int32] = []
    /// The extent of `encoded` so far: grown 64 MiB at a time and cut to the bytes written at the end.
    private var capacity = 0

    /// Creates `<output>.tmp` (and any missing parent folder).
    init(output: String) throws(DataError) {
        self.output = output
        temporary = output + ".tmp"
        let folder = (output as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw .io(file: folder, reason: "cannot create the folder (\(error.localizedDescription))")
            }
        }
        do throws(HDF5Error) {
            let file = try HDF5File.create(temporary)
            self.file = file
            encoded = try file.createDataset("encoded", type: .uint8, shape: [0], chunk: [Self.chunkBytes], growable: true)
        } catch {
            throw .hdf5(error)
        }
    }

    deinit {
        if file != nil {
            encoded = nil
            file = nil
            unlink(temporary)
        }
    }

    /// The number of images appended so far.
    var count: Int { sizes.count / 2 }

    /// Appends one image's file bytes and its decoded size.
    func append(_ bytes: [UInt8], width: Int, height: Int) throws(DataError) {
        guard let encoded else { preconditionFailure("EncodedImageWriter: append after finish") }
        let start = Int(offsets.last!)
        do throws(HDF5Error) {
            if start + bytes.count > capacity {
                capacity = max(start + bytes.count, capacity + (64 << 20))
                try encoded.grow(toRows: capacity)
            }
            try bytes.withUnsafeBufferPointer { (buffer) throws(HDF5Error) in
                try encoded.write(rows: start..<(start + bytes.count), from: buffer)
            }
        } catch {
            throw .hdf5(error)
        }
        offsets.append(Int64(start + bytes.count))
        sizes += [Int32(height), Int32(width)]
    }

    /// Writes offsets, sizes, labels and attributes, closes the file, syncs it and renames it to `output`.
    func finish(labels: [Int32], classNames: [String], mean: [Double], std: [Double], source: String) throws(DataError) {
        precondition(labels.count == count, "EncodedImageWriter: \(labels.count) labels for \(count) images")
        guard let file else { preconditionFailure("EncodedImageWriter: finish twice") }
        do throws(HDF5Error) {
            try encoded?.grow(toRows: Int(offsets.last!))
            try file.createDataset("offsets", type: .int64, shape: [offsets.count]).writeAll(offsets)
            try file.createDataset("sizes", type: .int32, shape: [count, 2]).writeAll(sizes)
            try DatasetWriter.writeLabelsAndAttributes(file, labels: labels, version: DatasetFile.encodedVersion,
                                                       classNames: classNames, mean: mean, std: std, source: source)
            encoded = nil
        } catch {
            throw .hdf5(error)
        }
        self.file = nil
        try DatasetWriter.publish(file, temporary: temporary, output: output)
    }
}
