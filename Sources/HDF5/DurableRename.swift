import Foundation

/// Moves a finished temporary file to its final name so that a crash or power cut leaves either the old file or
/// the complete new one: the data is synced before the rename, and the directory after it.
public enum DurableRename {
    /// Syncs `temporary`, renames it to `path`, then syncs the directory that holds `path`.
    public static func move(_ temporary: String, to path: String) throws(HDF5Error) {
        try synchronize(temporary, for: path)
        guard rename(temporary, path) == 0 else { throw failure(path, "renaming \(temporary)") }
        let directory = (path as NSString).deletingLastPathComponent
        try synchronize(directory.isEmpty ? "." : directory, for: path)
    }

    private static func synchronize(_ file: String, for path: String) throws(HDF5Error) {
        let descriptor = open(file, O_RDONLY)
        guard descriptor >= 0 else { throw failure(path, "opening \(file) to sync it") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw failure(path, "syncing \(file)") }
    }

    private static func failure(_ path: String, _ operation: String) -> HDF5Error {
        .operationFailed(file: path, object: "/", operation: operation, detail: String(cString: strerror(errno)))
    }
}
