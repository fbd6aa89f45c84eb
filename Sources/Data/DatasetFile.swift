import Foundation
import HDF5

/// One split of a dataset (e.g. train or test): an HDF5 file laid out as datasets/README.md describes, opened
/// read-only and validated in full.
///
/// Opening checks every dataset, attribute and label, so a bad file fails at start-up with one clear line rather
/// than mid-epoch. A handle belongs to the process that opened it: HDF5 handles must not cross `fork` (they give
/// corrupt reads), so each rank or worker process opens its own, and a read from another process throws.
/// Within the process the handle may be shared between threads: the HDF5 library is built thread-safe and
/// serialises calls, and the handle's own state never changes after opening.
public final class DatasetFile: @unchecked Sendable {
    /// The value of the `format` attribute that marks a dtrain dataset.
    public static let format = "dtrain-dataset"
    /// The layout version of files of decoded images [N, C, H, W], which this code reads and writes.
    public static let version = 1
    /// The layout version of files of encoded images (JPEG or PNG bytes), which `dtrain pack imagefolder` writes.
    public static let encodedVersion = 2

    /// The path the file was opened at.
    public let path: String
    /// The number of samples (N).
    public let count: Int
    /// The shape of one image: [C, H, W].
    public let sampleShape: [Int]
    /// The class names; a label is an index into them.
    public let classNames: [String]
    /// Per-channel mean of the pixel values scaled to [0, 1].
    public let mean: [Double]
    /// Per-channel standard deviation of the pixel values scaled to [0, 1].
    public let std: [Double]
    /// The label of every sample, each in 0..<classNames.count.
    public let labels: [Int32]
    /// The rows in one chunk of `images`: reads of whole, aligned chunks touch the disk least.
    public let chunkRows: Int
    /// What the file was packed from.
    public let source: String

    private let file: HDF5File
    private let images: HDF5Dataset
    private let opener: Int32

    /// The number of bytes of one image (C x H x W).
    public var sampleBytes: Int { sampleShape.reduce(1, *) }

    /// Opens and validates the dataset file at `path`.
    public init(path: String) throws(DataError) {
        self.path = path
        opener = getpid()
        do {
            file = try HDF5File.open(path)
        } catch {
            throw DataError(error)
        }
        if file.hasObject("encoded"), !file.hasObject("images") {
            throw .io(file: path, reason: "holds encoded images (layout version \(Self.encodedVersion), written by "
                + "`dtrain pack imagefolder`), not decoded ones [N, C, H, W]; EncodedImageFile reads them")
        }
        images = try Self.openDataset(file, "images", expected: "uint8 [N, C, H, W]", type: .uint8)
        guard images.shape.count == 4, images.shape.allSatisfy({ $0 >= 1 }) else {
            throw .wrongShape(file: path, name: "images", found: images.shape,
                              expected: "[N, C, H, W] with every extent at least 1")
        }
        count = images.shape[0]
        sampleShape = Array(images.shape.dropFirst())
        if let chunk = images.chunkShape {
            guard Array(chunk.dropFirst()) == sampleShape else {
                let extents = sampleShape.map(String.init).joined(separator: ", ")
                throw .wrongShape(file: path, name: "the chunk of images", found: chunk,
                                  expected: "[rows, \(extents)] (whole images)")
            }
            chunkRows = chunk[0]
        } else {
            // Contiguous storage: any row range is one contiguous read, so report the packers' chunk size.
            chunkRows = DatasetWriter.chunkRows(count: count, sampleBytes: sampleShape.reduce(1, *))
        }

        let labelData = try Self.openDataset(file, "labels", expected: "int32 [N]", type: .int32)
        guard labelData.shape.count == 1 else {
            throw .wrongShape(file: path, name: "labels", found: labelData.shape, expected: "[N] (one label per image)")
        }
        guard labelData.shape[0] == count else {
            throw .countMismatch(file: path, images: count, labels: labelData.shape[0])
        }

        let attributes: HDF5Attributes
        do { attributes = try file.attributes } catch { throw DataError(error) }
        let format = try Self.attribute(attributes, "format", expected: "the string \"\(Self.format)\"") {
            () throws(HDF5Error) in try attributes.read("format", as: String.self)
        }
        guard format == Self.format else {
            throw .malformedAttribute(file: path, name: "format", found: "\"\(format)\"",
                                      expected: "\"\(Self.format)\"")
        }
        let version = try Self.attribute(attributes, "version", expected: "the integer \(Self.version)") {
            () throws(HDF5Error) in try attributes.read("version", as: Int.self)
        }
        guard version == Self.version else {
            throw .malformedAttribute(file: path, name: "version", found: "\(version)",
                                      expected: "\(Self.version) (the layout this dtrain reads)")
        }
        classNames = try Self.attribute(attributes, "classes", expected: "an array of class names") {
            () throws(HDF5Error) in try attributes.read("classes", as: [String].self)
        }
        guard !classNames.isEmpty else {
            throw .malformedAttribute(file: path, name: "classes", found: "empty", expected: "at least one class name")
        }
        let channels = sampleShape[0]
        mean = try Self.channelValues(attributes, "mean", channels: channels, positive: false)
        std = try Self.channelValues(attributes, "std", channels: channels, positive: true)
        source = try Self.attribute(attributes, "source", expected: "a string saying what the file was packed from") {
            () throws(HDF5Error) in try attributes.read("source", as: String.self)
        }

        do { labels = try labelData.readAll(as: Int32.self) } catch { throw DataError(error) }
        if let index = labels.firstIndex(where: { $0 < 0 || Int($0) >= classNames.count }) {
            throw .labelOutOfRange(file: path, index: index, value: Int(labels[index]), classes: classNames.count,
                                   classSource: "attribute classes")
        }
    }

    /// Reads images `rows` (C x H x W bytes each, row after row) into `destination` with one hyperslab read.
    public func readImages(rows: Range<Int>, into destination: UnsafeMutablePointer<UInt8>) throws(DataError) {
        let caller = getpid()
        guard caller == opener else { throw .foreignProcess(file: path, opener: opener, caller: caller) }
        guard rows.lowerBound >= 0, rows.upperBound <= count else {
            throw .rowsOutOfRange(file: path, rows: rows, count: count)
        }
        do {
            let buffer = UnsafeMutableBufferPointer(start: destination, count: rows.count * sampleBytes)
            try images.read(rows: rows, into: buffer)
        } catch {
            throw damage(in: rows, destination: destination) ?? DataError(error)
        }
    }

    /// After a failed read of `rows`: the first chunk of them that cannot be read on its own, so that the message
    /// names the damaged samples rather than the whole request (a cached loader asks for the whole file at once).
    private func damage(in rows: Range<Int>, destination: UnsafeMutablePointer<UInt8>) -> DataError? {
        var start = rows.lowerBound
        while start < rows.upperBound {
            let chunkEnd = min(rows.upperBound, (start / chunkRows + 1) * chunkRows)
            let buffer = UnsafeMutableBufferPointer(start: destination + (start - rows.lowerBound) * sampleBytes,
                                                    count: (chunkEnd - start) * sampleBytes)
            do {
                try images.read(rows: start..<chunkEnd, into: buffer)
            } catch {
                let chunk = (start / chunkRows * chunkRows)..<min(count, (start / chunkRows + 1) * chunkRows)
                return .damagedSamples(file: path, rows: chunk, detail: Self.innermost(error))
            }
            start = chunkEnd
        }
        return nil
    }

    /// HDF5's own reason for a failure, without the file and object the message names already.
    private static func innermost(_ error: HDF5Error) -> String {
        if case .operationFailed(_, _, _, let detail) = error, !detail.isEmpty { return detail }
        return error.description
    }

    private static func openDataset(_ file: HDF5File, _ name: String, expected: String,
                                    type: HDF5ElementType) throws(DataError) -> HDF5Dataset {
        guard file.hasObject(name) else { throw .missingDataset(file: file.path, name: name, expected: expected) }
        let dataset: HDF5Dataset
        do { dataset = try file.openDataset(name) } catch { throw DataError(error) }
        guard dataset.elementType == type else {
            throw .wrongElementType(file: file.path, name: name, found: dataset.elementType.description,
                                    expected: type.description)
        }
        return dataset
    }

    /// Reads attribute `name`, turning a missing or mistyped attribute into the dataset error that names it.
    private static func attribute<Value>(_ attributes: HDF5Attributes, _ name: String, expected: String,
                                         _ read: () throws(HDF5Error) -> Value) throws(DataError) -> Value {
        do {
            return try read()
        } catch {
            switch error {
            case .missingObject(let file, _):
                throw .missingAttribute(file: file, name: name, expected: expected)
            case .wrongType(let file, _, let found, _):
                throw .malformedAttribute(file: file, name: name, found: found, expected: expected)
            default:
                throw .hdf5(error)
            }
        }
    }

    /// Reads a per-channel attribute (`mean` or `std`): one finite float per channel, positive if `positive`.
    private static func channelValues(_ attributes: HDF5Attributes, _ name: String, channels: Int,
                                      positive: Bool) throws(DataError) -> [Double] {
        let expected = "\(channels) \(positive ? "positive " : "")float\(channels == 1 ? "" : "s"), one per channel"
        let values = try attribute(attributes, name, expected: expected) {
            () throws(HDF5Error) in try attributes.read(name, as: [Double].self)
        }
        let file = attributes.file
        guard values.count == channels else {
            let found = "\(values.count) value\(values.count == 1 ? "" : "s")"
            throw .malformedAttribute(file: file, name: name, found: found, expected: expected)
        }
        if let bad = values.firstIndex(where: { !$0.isFinite || (positive && $0 <= 0) }) {
            throw .malformedAttribute(file: file, name: name, found: "\(values) (element \(bad) is \(values[bad]))",
                                      expected: expected)
        }
        return values
    }
}
