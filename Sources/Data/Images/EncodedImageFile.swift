import Foundation
import HDF5

/// A dataset file of encoded images (layout version 2 of datasets/README.md), opened read-only and validated:
/// offsets that cover `encoded` in order, a positive size per image, labels in range, a mean and std per channel
/// (three, or one for a file of grey images).
///
/// Like `DatasetFile`, a handle belongs to the process that opened it; reads are serialised by the HDF5 library.
public final class EncodedImageFile: @unchecked Sendable {
    /// The path the file was opened at.
    public let path: String
    /// The number of images (N).
    public let count: Int
    /// The class names; a label is an index into them.
    public let classNames: [String]
    /// Per-channel (R, G, B; or one value for grey images) mean of the pixel values scaled to [0, 1].
    public let mean: [Double]
    /// Per-channel standard deviation of the pixel values scaled to [0, 1].
    public let std: [Double]
    /// The label of every image.
    public let labels: [Int32]
    /// Where image i's bytes start in `encoded`; `offsets[count]` is their total.
    public let offsets: [Int64]
    /// Width and height of every image as stored.
    public let sizes: [(width: Int, height: Int)]
    /// About how many images one stored chunk holds (for the sampler's chunk windows).
    public let chunkImages: Int
    /// What the file was packed from.
    public let source: String

    private let encoded: HDF5Dataset
    private let opener: Int32

    /// The total bytes of encoded images.
    public var totalBytes: Int { Int(offsets[count]) }

    /// Opens and validates the file at `path`.
    public init(path: String) throws(DataError) {
        self.path = path
        opener = getpid()
        let file: HDF5File
        do { file = try HDF5File.open(path) } catch { throw DataError(error) }
        func dataset(_ name: String, _ type: HDF5ElementType, _ expected: String) throws(DataError) -> HDF5Dataset {
            guard file.hasObject(name) else { throw .missingDataset(file: path, name: name, expected: expected) }
            let dataset: HDF5Dataset
            do { dataset = try file.openDataset(name) } catch { throw DataError(error) }
            guard dataset.elementType == type else {
                throw .wrongElementType(file: path, name: name, found: dataset.elementType.description,
                                        expected: type.description)
            }
            return dataset
        }
        encoded = try dataset("encoded", .uint8, "uint8 [B], the images' file bytes")
        let offsetData = try dataset("offsets", .int64, "int64 [N + 1]")
        let sizeData = try dataset("sizes", .int32, "int32 [N, 2]")
        let labelData = try dataset("labels", .int32, "int32 [N]")
        do {
            offsets = try offsetData.readAll(as: Int64.self)
            labels = try labelData.readAll(as: Int32.self)
            let flat = try sizeData.readAll(as: Int32.self)
            sizes = stride(from: 0, to: flat.count - 1, by: 2).map { (Int(flat[$0 + 1]), Int(flat[$0])) }
        } catch {
            throw DataError(error)
        }
        count = labels.count
        guard count >= 1, offsets.count == count + 1, sizes.count == count else {
            throw .countMismatch(file: path, images: offsets.count - 1, labels: count)
        }
        guard offsets[0] == 0, offsets[count] == Int64(encoded.shape[0]),
              zip(offsets, offsets.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw .wrongShape(file: path, name: "offsets", found: [offsets.count],
                              expected: "N + 1 increasing values from 0 to the length of encoded (\(encoded.shape[0]))")
        }
        if let bad = sizes.firstIndex(where: { $0.width < 1 || $0.height < 1 }) {
            throw .wrongShape(file: path, name: "sizes[\(bad)]", found: [sizes[bad].height, sizes[bad].width],
                              expected: "a positive height and width")
        }
        let attributes: HDF5Attributes
        do { attributes = try file.attributes } catch { throw DataError(error) }
        do {
            classNames = try attributes.read("classes", as: [String].self)
            mean = try attributes.read("mean", as: [Double].self)
            std = try attributes.read("std", as: [Double].self)
            source = (try? attributes.read("source", as: String.self)) ?? ""
        } catch {
            throw DataError(error)
        }
        guard [1, 3].contains(mean.count), std.count == mean.count, std.allSatisfy({ $0 > 0 }) else {
            throw .malformedAttribute(file: path, name: "mean/std", found: "\(mean) / \(std)",
                                      expected: "3 values each (R, G, B) or 1 each (grey), std positive")
        }
        let classes = classNames.count
        if let index = labels.firstIndex(where: { $0 < 0 || Int($0) >= classes }) {
            throw .labelOutOfRange(file: path, index: index, value: Int(labels[index]), classes: classes,
                                   classSource: "attribute classes")
        }
        chunkImages = max(1, EncodedImageWriter.chunkBytes * count / max(1, Int(offsets[count])))
    }

    /// Whether the file at `path` is of this layout (its `version` attribute is 2).
    public static func holdsEncodedImages(_ path: String) -> Bool {
        guard let file = try? HDF5File.open(path), let version = try? file.attributes.read("version", as: Int.self)
        else { return false }
        return version == DatasetFile.encodedVersion
    }

    /// Image `index`'s file bytes.
    public func bytes(of index: Int) throws(DataError) -> [UInt8] {
        try bytes(in: Int(offsets[index])..<Int(offsets[index + 1]))
    }

    /// Every image's bytes, one after another (for a loader that keeps the file in memory).
    public func allBytes() throws(DataError) -> [UInt8] {
        try bytes(in: 0..<totalBytes)
    }

    private func bytes(in range: Range<Int>) throws(DataError) -> [UInt8] {
        let caller = getpid()
        guard caller == opener else { throw .foreignProcess(file: path, opener: opener, caller: caller) }
        var result = [UInt8](repeating: 0, count: range.count)
        do {
            try result.withUnsafeMutableBufferPointer { (buffer) throws(HDF5Error) in
                try encoded.read(rows: range, into: buffer)
            }
        } catch {
            throw DataError(error)
        }
        return result
    }
}
