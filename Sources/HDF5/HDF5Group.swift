import CHDF5

/// An open HDF5 group: a folder of datasets and further groups, with attributes.
public final class HDF5Group {
    /// The path of the file holding the group.
    public let file: String
    /// The group's absolute path inside the file ("/" for the root group).
    public let name: String
    let id: hid_t

    init(id: hid_t, file: String, name: String) {
        self.id = id
        self.file = file
        self.name = name
    }

    deinit {
        H5Gclose(id)
    }

    /// The group's attributes.
    public var attributes: HDF5Attributes {
        HDF5Attributes(owner: self, location: id, context: HDF5Context(file: file, object: name))
    }

    /// Creates a group at `path` (relative to this group, or absolute), creating missing groups on the way.
    public func createGroup(_ path: String) throws(HDF5Error) -> HDF5Group {
        HDF5Library.silenceErrorPrinting()
        let full = absolutePath(path)
        let context = HDF5Context(file: file, object: full)
        let linkProperties = try context.check(H5Pcreate(dtrain_h5p_link_create()), "creating link properties")
        defer { H5Pclose(linkProperties) }
        try context.check(H5Pset_create_intermediate_group(linkProperties, 1), "allowing intermediate groups")
        let group = try context.check(H5Gcreate2(id, path, linkProperties, dtrain_h5p_default(), dtrain_h5p_default()),
                                      "creating the group")
        return HDF5Group(id: group, file: file, name: full)
    }

    /// Opens the existing group at `path` (relative to this group, or absolute).
    public func openGroup(_ path: String) throws(HDF5Error) -> HDF5Group {
        HDF5Library.silenceErrorPrinting()
        let full = absolutePath(path)
        guard hasObject(path) else { throw .missingObject(file: file, object: full) }
        let group = H5Gopen2(id, path, dtrain_h5p_default())
        guard group >= 0 else { throw .wrongType(file: file, object: full, found: "not a group", expected: "a group") }
        return HDF5Group(id: group, file: file, name: full)
    }

    /// The names of the group's direct members (groups and datasets), in name order.
    public func memberNames() throws(HDF5Error) -> [String] {
        HDF5Library.silenceErrorPrinting()
        let context = HDF5Context(file: file, object: name)
        var info = H5G_info_t()
        try context.check(H5Gget_info(id, &info), "listing the group")
        var names: [String] = []
        for index in 0..<info.nlinks {
            let length = try context.check(H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0,
                                                              dtrain_h5p_default()), "reading member \(index)'s name")
            var bytes = [CChar](repeating: 0, count: Int(length) + 1)
            try context.check(H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, &bytes, bytes.count,
                                                 dtrain_h5p_default()), "reading member \(index)'s name")
            names.append(String(cString: bytes))
        }
        return names
    }

    /// Whether a group or dataset exists at `path` (relative to this group, or absolute).
    public func hasObject(_ path: String) -> Bool {
        HDF5Library.silenceErrorPrinting()
        // H5Lexists fails rather than answering false when an intermediate group is missing, so test each prefix.
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in components {
            prefix += "/" + component
            guard H5Lexists(id, prefix, dtrain_h5p_default()) > 0 else { return false }
        }
        return H5Oexists_by_name(id, prefix, dtrain_h5p_default()) > 0
    }

    /// Creates a dataset of `type` and `shape` at `name`, creating missing groups on the way.
    ///
    /// - Parameters:
    ///   - chunk: the chunk shape (same rank as `shape`, each extent 1...shape's), or nil for contiguous storage.
    ///   - fletcher32: store a Fletcher-32 checksum with every chunk, verified on every read; needs `chunk`.
    ///   - growable: let `HDF5Dataset.grow(toRows:)` extend the first dimension without limit; needs `chunk`.
    public func createDataset(_ name: String, type: HDF5ElementType, shape: [Int], chunk: [Int]? = nil,
                              fletcher32: Bool = false, growable: Bool = false) throws(HDF5Error) -> HDF5Dataset {
        HDF5Library.silenceErrorPrinting()
        let full = absolutePath(name)
        let context = HDF5Context(file: file, object: full)
        guard let fileType = type.fileType else {
            throw .invalidRequest(file: file, object: full, reason: "cannot create a dataset of \(type)")
        }
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw .invalidRequest(file: file, object: full, reason: "shape \(shape) has a negative extent")
        }
        if let chunk {
            // A growable first dimension may start smaller than its chunk.
            let limits = shape.enumerated().map { growable && $0.offset == 0 ? Int.max : max($0.element, 1) }
            guard chunk.count == shape.count, !shape.isEmpty,
                  zip(chunk, limits).allSatisfy({ $0 >= 1 && $0 <= $1 }) else {
                throw .invalidRequest(file: file, object: full,
                                      reason: "chunk \(chunk) does not fit shape \(shape) (same rank, 1...extent each)")
            }
        } else if fletcher32 {
            throw .invalidRequest(file: file, object: full, reason: "Fletcher-32 checksums need a chunked dataset")
        } else if growable {
            throw .invalidRequest(file: file, object: full, reason: "a growable extent needs a chunked dataset")
        }
        let dims = shape.map { hsize_t($0) }
        var limits = dims
        if growable { limits[0] = dtrain_h5s_unlimited() }
        let space = try context.check(H5Screate_simple(Int32(dims.count), dims, limits), "creating the dataspace")
        defer { H5Sclose(space) }
        let creation = try context.check(H5Pcreate(dtrain_h5p_dataset_create()), "creating dataset properties")
        defer { H5Pclose(creation) }
        // Without modification times the same contents give the same bytes, so packed files can be compared.
        try context.check(H5Pset_obj_track_times(creation, false), "turning off modification times")
        if let chunk {
            try context.check(H5Pset_chunk(creation, Int32(chunk.count), chunk.map { hsize_t($0) }),
                              "setting the chunk shape")
            if fletcher32 {
                try context.check(H5Pset_fletcher32(creation), "adding the Fletcher-32 filter")
            }
        }
        let linkProperties = try context.check(H5Pcreate(dtrain_h5p_link_create()), "creating link properties")
        defer { H5Pclose(linkProperties) }
        try context.check(H5Pset_create_intermediate_group(linkProperties, 1), "allowing intermediate groups")
        let access = try HDF5Dataset.accessProperties(context: context,
                                                      chunkCacheBytes: HDF5Dataset.defaultChunkCacheBytes)
        defer { H5Pclose(access) }
        let dataset = try context.check(H5Dcreate2(id, name, fileType, space, linkProperties, creation, access),
                                        "creating the dataset")
        return try HDF5Dataset(id: dataset, context: context)
    }

    /// Opens the existing dataset at `name` (relative to this group, or absolute).
    ///
    /// - Parameter chunkCacheBytes: the raw-data chunk cache of this handle (see `HDF5Dataset.defaultChunkCacheBytes`).
    public func openDataset(_ name: String, chunkCacheBytes: Int = HDF5Dataset.defaultChunkCacheBytes)
        throws(HDF5Error) -> HDF5Dataset {
        HDF5Library.silenceErrorPrinting()
        let full = absolutePath(name)
        let context = HDF5Context(file: file, object: full)
        guard hasObject(name) else { throw .missingObject(file: file, object: full) }
        let access = try HDF5Dataset.accessProperties(context: context, chunkCacheBytes: chunkCacheBytes)
        defer { H5Pclose(access) }
        let dataset = H5Dopen2(id, name, access)
        guard dataset >= 0 else {
            throw .wrongType(file: file, object: full, found: "not a dataset", expected: "a dataset")
        }
        return try HDF5Dataset(id: dataset, context: context)
    }

    /// The absolute path of `path` taken relative to this group.
    func absolutePath(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return name == "/" ? "/" + path : name + "/" + path
    }
}
