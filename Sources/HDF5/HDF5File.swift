import CHDF5
import Foundation

/// An open HDF5 file; closed by `close()` or when the last reference goes.
///
/// A handle belongs to the process that opened it: HDF5 handles must not cross `fork`, so every process (every
/// rank, every worker) opens the file itself.
public final class HDF5File {
    /// The path the file was opened or created at.
    public let path: String
    /// Whether the file was opened for writing.
    public let isWritable: Bool
    private var id: hid_t

    private init(id: hid_t, path: String, writable: Bool) {
        self.id = id
        self.path = path
        self.isWritable = writable
    }

    deinit {
        if id >= 0 { H5Fclose(id) }
    }

    /// Opens an existing HDF5 file, read-only unless `writable`.
    public static func open(_ path: String, writable: Bool = false) throws(HDF5Error) -> HDF5File {
        HDF5Library.silenceErrorPrinting()
        guard FileManager.default.fileExists(atPath: path) else { throw .fileNotFound(file: path) }
        let signature = H5Fis_hdf5(path)
        guard signature != 0 else { throw .notHDF5(file: path) }
        let context = HDF5Context(file: path, object: "/")
        try context.check(signature, "checking the HDF5 signature")
        let flags = writable ? dtrain_h5f_acc_rdwr() : dtrain_h5f_acc_rdonly()
        let id = try context.check(H5Fopen(path, flags, HDF5Library.fileAccess), "opening the file")
        return HDF5File(id: id, path: path, writable: writable)
    }

    /// Creates an HDF5 file at `path`, replacing any file there.
    public static func create(_ path: String) throws(HDF5Error) -> HDF5File {
        HDF5Library.silenceErrorPrinting()
        let context = HDF5Context(file: path, object: "/")
        let id = try context.check(H5Fcreate(path, dtrain_h5f_acc_trunc(), dtrain_h5p_default(), HDF5Library.fileAccess),
                                   "creating the file")
        return HDF5File(id: id, path: path, writable: true)
    }

    /// The root group "/", through which groups, datasets and file attributes are reached.
    ///
    /// Each access opens a new handle, so the file holds no handle of its own that `close()` would leave open.
    public var root: HDF5Group {
        get throws(HDF5Error) {
            HDF5Library.silenceErrorPrinting()
            let group = try HDF5Context(file: path, object: "/").check(H5Gopen2(id, "/", dtrain_h5p_default()),
                                                                        "opening the root group")
            return HDF5Group(id: group, file: path, name: "/")
        }
    }

    /// The file's attributes (those of its root group, as h5py's `File.attrs`).
    public var attributes: HDF5Attributes {
        get throws(HDF5Error) { try root.attributes }
    }

    /// Writes everything buffered for this file to the operating system.
    public func flush() throws(HDF5Error) {
        HDF5Library.silenceErrorPrinting()
        try HDF5Context(file: path, object: "/").check(H5Fflush(id, H5F_SCOPE_GLOBAL), "flushing the file")
    }

    /// Closes the file; groups and datasets still open keep it open until they are released.
    public func close() throws(HDF5Error) {
        HDF5Library.silenceErrorPrinting()
        guard id >= 0 else { return }
        let status = H5Fclose(id)
        id = -1
        try HDF5Context(file: path, object: "/").check(status, "closing the file")
    }

    /// Creates a group at `path`, creating missing groups on the way.
    public func createGroup(_ path: String) throws(HDF5Error) -> HDF5Group {
        try root.createGroup(path)
    }

    /// Opens the existing group at `path`.
    public func openGroup(_ path: String) throws(HDF5Error) -> HDF5Group {
        try root.openGroup(path)
    }

    /// Whether a group or dataset exists at `path`.
    public func hasObject(_ path: String) -> Bool {
        (try? root.hasObject(path)) ?? false
    }

    /// Creates a dataset at `name` (see `HDF5Group.createDataset`).
    public func createDataset(_ name: String, type: HDF5ElementType, shape: [Int], chunk: [Int]? = nil,
                              fletcher32: Bool = false) throws(HDF5Error) -> HDF5Dataset {
        try root.createDataset(name, type: type, shape: shape, chunk: chunk, fletcher32: fletcher32)
    }

    /// Opens the existing dataset at `name` (see `HDF5Group.openDataset`).
    public func openDataset(_ name: String, chunkCacheBytes: Int = HDF5Dataset.defaultChunkCacheBytes)
        throws(HDF5Error) -> HDF5Dataset {
        try root.openDataset(name, chunkCacheBytes: chunkCacheBytes)
    }
}
