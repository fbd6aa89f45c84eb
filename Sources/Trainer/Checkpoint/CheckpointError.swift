/// Why a checkpoint cannot be written, read or restored; each case names the file.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    /// No file exists at the path.
    case notFound(file: String)
    /// The file is not HDF5, or HDF5 cannot open it (a truncated file fails here).
    case unreadable(file: String, detail: String)
    /// The file is HDF5 but not a dtrain checkpoint (its `format` attribute is missing or different).
    case wrongFormat(file: String, found: String)
    /// The file is a dtrain checkpoint of a layout version this build does not read.
    case unsupportedVersion(file: String, found: Int)
    /// A root attribute is missing or holds the wrong kind of value.
    case missingAttribute(file: String, name: String)
    /// A group or dataset of the layout is missing.
    case missingDataset(file: String, name: String)
    /// A dataset's data fails HDF5's Fletcher-32 check or cannot be read.
    case damagedDataset(file: String, dataset: String, detail: String)
    /// The file's own checksum over every dataset and attribute does not match its contents.
    case checksumMismatch(file: String, stored: String, computed: String)
    /// The file's contents contradict each other (e.g. an optimizer buffer not as long as all parameters).
    case inconsistent(file: String, reason: String)
    /// A tensor's shape in the checkpoint differs from the model's.
    case shapeMismatch(file: String, name: String, checkpoint: [Int], model: [Int])
    /// The model has a tensor (`kind` "parameter" or "buffer") the checkpoint lacks.
    case missingTensor(file: String, kind: String, name: String)
    /// The checkpoint has a tensor the model lacks.
    case unexpectedTensor(file: String, kind: String, name: String)
    /// Writing, syncing, renaming or deleting a file failed.
    case writeFailed(file: String, detail: String)

    /// The path of the file the error concerns.
    public var file: String {
        switch self {
        case .notFound(let file), .unreadable(let file, _), .wrongFormat(let file, _),
             .unsupportedVersion(let file, _), .missingAttribute(let file, _), .missingDataset(let file, _),
             .damagedDataset(let file, _, _), .checksumMismatch(let file, _, _), .inconsistent(let file, _),
             .shapeMismatch(let file, _, _, _), .missingTensor(let file, _, _), .unexpectedTensor(let file, _, _),
             .writeFailed(let file, _):
            file
        }
    }

    /// What is wrong, without the file's path (for messages that name the file their own way).
    public var reason: String {
        switch self {
        case .notFound:
            "no such file"
        case .unreadable(_, let detail):
            "cannot be opened as HDF5: \(detail)"
        case .wrongFormat(_, let found):
            "not a dtrain checkpoint (format \"\(found)\", expected \"dtrain-checkpoint\")"
        case .unsupportedVersion(_, let found):
            "checkpoint layout version \(found), this dtrain reads version \(CheckpointFile.formatVersion)"
        case .missingAttribute(_, let name):
            "attribute \(name) is missing or of the wrong kind"
        case .missingDataset(_, let name):
            "\(name) is missing"
        case .damagedDataset(_, let dataset, let detail):
            detail.isEmpty ? "checksum of \(dataset) does not match" : "\(dataset) cannot be read (\(detail))"
        case .checksumMismatch(_, let stored, let computed):
            "checksum \(computed) of the contents does not match the stored \(stored)"
        case .inconsistent(_, let reason):
            reason
        case .shapeMismatch(let file, let name, let checkpoint, let model):
            "\(name) is \(checkpoint) in \(Self.fileName(file)) but \(model) in the model"
        case .missingTensor(_, let kind, let name):
            "the model's \(kind) \(name) is not in the checkpoint"
        case .unexpectedTensor(_, let kind, let name):
            "\(kind) \(name) of the checkpoint is not in the model"
        case .writeFailed(_, let detail):
            "cannot write the checkpoint (\(detail))"
        }
    }

    /// One line: the file and what is wrong with it.
    public var description: String {
        if case .shapeMismatch = self { return reason }
        return "\(file): \(reason)"
    }

    private static func fileName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}
