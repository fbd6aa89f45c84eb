/// A failure of an HDF5 operation, naming the file and the object it concerns.
public enum HDF5Error: Error, CustomStringConvertible, Equatable {
    /// No file exists at the path.
    case fileNotFound(file: String)
    /// The file exists but does not start with an HDF5 signature.
    case notHDF5(file: String)
    /// No group, dataset or attribute of that name exists.
    case missingObject(file: String, object: String)
    /// The object exists but holds values of another kind than the caller asked for.
    case wrongType(file: String, object: String, found: String, expected: String)
    /// The caller's request does not fit the object (row range, buffer size, shape).
    case invalidRequest(file: String, object: String, reason: String)
    /// The HDF5 library refused an operation; `detail` is the library's own innermost message.
    case operationFailed(file: String, object: String, operation: String, detail: String)

    /// The path of the file the error concerns.
    public var file: String {
        switch self {
        case .fileNotFound(let file), .notHDF5(let file), .missingObject(let file, _),
             .wrongType(let file, _, _, _), .invalidRequest(let file, _, _), .operationFailed(let file, _, _, _):
            file
        }
    }

    /// One line: the file, the object, and what failed or was expected.
    public var description: String {
        switch self {
        case .fileNotFound(let file):
            "\(file): no such file"
        case .notHDF5(let file):
            "\(file): not an HDF5 file"
        case .missingObject(let file, let object):
            "\(file): \(object) does not exist"
        case .wrongType(let file, let object, let found, let expected):
            "\(file): \(object) is \(found), expected \(expected)"
        case .invalidRequest(let file, let object, let reason):
            "\(file): \(object): \(reason)"
        case .operationFailed(let file, let object, let operation, let detail):
            "\(file): \(object): \(operation) failed" + (detail.isEmpty ? "" : " (\(detail))")
        }
    }
}
