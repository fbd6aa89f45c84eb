import CHDF5

/// The file and object an operation concerns, used to build errors.
struct HDF5Context {
    /// The file's path as the user gave it.
    let file: String
    /// The object's path inside the file, or a description such as "attribute mean of /images".
    let object: String

    /// The error for a failed library call, with the library's own reason attached.
    func failure(_ operation: String) -> HDF5Error {
        .operationFailed(file: file, object: object, operation: operation, detail: HDF5Library.innermostErrorMessage())
    }

    /// Throws `failure(operation)` when a library call returned a negative identifier or status.
    @discardableResult
    func check<Result: BinaryInteger>(_ result: Result, _ operation: String) throws(HDF5Error) -> Result {
        guard result >= 0 else { throw failure(operation) }
        return result
    }

    /// The context of another object in the same file.
    func child(_ object: String) -> HDF5Context {
        HDF5Context(file: file, object: object)
    }
}
