import HDF5

/// A problem with a dataset file or a packer's input, as one line naming the file, the key, what was found and
/// what was expected.
public enum DataError: Error, CustomStringConvertible, Equatable {
    /// No file exists at the path.
    case missingFile(file: String)
    /// The file is not an HDF5 file.
    case notHDF5(file: String)
    /// The file is shorter than its HDF5 header says (an interrupted copy or download).
    case truncated(file: String, bytes: Int, expected: Int)
    /// A dataset the layout requires is absent.
    case missingDataset(file: String, name: String, expected: String)
    /// A dataset stores another element type than the layout requires.
    case wrongElementType(file: String, name: String, found: String, expected: String)
    /// A dataset has another rank or shape than the layout requires.
    case wrongShape(file: String, name: String, found: [Int], expected: String)
    /// `labels` and `images` disagree on the number of samples.
    case countMismatch(file: String, images: Int, labels: Int)
    /// A label is not the index of a class; `classSource` says where the classes were counted.
    case labelOutOfRange(file: String, index: Int, value: Int, classes: Int, classSource: String)
    /// An attribute the layout requires is absent.
    case missingAttribute(file: String, name: String, expected: String)
    /// An attribute holds the wrong kind or number of values.
    case malformedAttribute(file: String, name: String, found: String, expected: String)
    /// Some samples' stored bytes cannot be read (a chunk fails its checksum or lies beyond the end of the file).
    case damagedSamples(file: String, rows: Range<Int>, detail: String)
    /// A read asked for rows outside the file.
    case rowsOutOfRange(file: String, rows: Range<Int>, count: Int)
    /// A handle was used by another process than the one that opened it (e.g. after `fork`).
    case foreignProcess(file: String, opener: Int32, caller: Int32)
    /// An IDX file is malformed (magic number, header, length).
    case badIDX(file: String, reason: String)
    /// The images and labels IDX files hold different numbers of samples.
    case idxCountMismatch(images: String, imageCount: Int, labels: String, labelCount: Int)
    /// A packer argument is out of range.
    case invalidArgument(name: String, value: String, expected: String)
    /// Reading, writing or renaming a file failed in the operating system.
    case io(file: String, reason: String)
    /// Any other failure of the HDF5 library.
    case hdf5(HDF5Error)

    /// One line a person can act on.
    public var description: String {
        switch self {
        case .missingFile(let file):
            "\(file): no such file"
        case .notHDF5(let file):
            "\(file): not an HDF5 file (a dtrain dataset is an HDF5 file, see datasets/README.md)"
        case .truncated(let file, let bytes, let expected):
            "\(file): truncated: \(bytes) bytes of the \(expected) its HDF5 header records (an interrupted copy?)"
        case .missingDataset(let file, let name, let expected):
            "\(file): dataset \(name) is missing, expected \(expected)"
        case .wrongElementType(let file, let name, let found, let expected):
            "\(file): \(name) is \(found), expected \(expected)"
        case .wrongShape(let file, let name, let found, let expected):
            "\(file): \(name) has shape \(found), expected \(expected)"
        case .countMismatch(let file, let images, let labels):
            "\(file): labels has \(labels) entries but images has \(images) rows, expected one label per image"
        case .labelOutOfRange(let file, let index, let value, let classes, let classSource):
            "\(file): labels[\(index)] = \(value) is outside 0..<\(classes) (\(classes) classes in \(classSource))"
        case .missingAttribute(let file, let name, let expected):
            "\(file): attribute \(name) is missing, expected \(expected)"
        case .malformedAttribute(let file, let name, let found, let expected):
            "\(file): attribute \(name) is \(found), expected \(expected)"
        case .damagedSamples(let file, let rows, let detail):
            "\(file): samples \(rows.lowerBound)..<\(rows.upperBound) of images cannot be read, the file is damaged there "
                + "(\(detail)); repack it or restore it from a copy"
        case .rowsOutOfRange(let file, let rows, let count):
            "\(file): rows \(rows.lowerBound)..<\(rows.upperBound) are outside 0..<\(count)"
        case .foreignProcess(let file, let opener, let caller):
            "\(file): opened by process \(opener) but read by process \(caller); "
                + "every process must open the file itself"
        case .badIDX(let file, let reason):
            "\(file): \(reason)"
        case .idxCountMismatch(let images, let imageCount, let labels, let labelCount):
            "\(images) holds \(imageCount) images but \(labels) holds \(labelCount) labels, expected equal counts"
        case .invalidArgument(let name, let value, let expected):
            "\(name) \(value): expected \(expected)"
        case .io(let file, let reason):
            "\(file): \(reason)"
        case .hdf5(let error):
            error.description
        }
    }

    /// The error for an HDF5 failure, keeping the common cases in dataset terms.
    init(_ error: HDF5Error) {
        switch error {
        case .fileNotFound(let file): self = .missingFile(file: file)
        case .notHDF5(let file): self = .notHDF5(file: file)
        case .operationFailed(let file, _, _, let detail):
            // HDF5 says "truncated file: eof = 31848, sblock->base_addr = 0, stored_eof = 63696".
            if let match = detail.firstMatch(of: /truncated file: eof = (\d+),.*stored_eof = (\d+)/),
               let bytes = Int(match.1), let expected = Int(match.2) {
                self = .truncated(file: file, bytes: bytes, expected: expected)
            } else {
                self = .hdf5(error)
            }
        default: self = .hdf5(error)
        }
    }
}
