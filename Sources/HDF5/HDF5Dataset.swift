import CHDF5

/// An open HDF5 dataset: an n-dimensional array of numbers, read and written in row ranges (hyperslabs).
public final class HDF5Dataset {
    /// Raw-data chunk cache per dataset handle: 32 MiB.
    ///
    /// HDF5's default of 1 MiB is smaller than a few chunks of 224x224 images, so a batch that straddles chunk
    /// boundaries would read the straddled chunks from disk twice; 32 MiB holds dozens of the ~1 MiB chunks the
    /// packers write, enough for a reader's window, and costs little next to the model.
    public static let defaultChunkCacheBytes = 32 << 20
    /// Hash slots of the chunk cache: a prime well above the number of chunks the cache holds, as HDF5 advises.
    static let chunkCacheSlots = 12_289

    /// The path of the file holding the dataset.
    public var file: String { context.file }
    /// The dataset's absolute path inside the file.
    public var name: String { context.object }
    /// The extent of each dimension, outermost first.
    public private(set) var shape: [Int]
    /// The kind of numbers stored.
    public let elementType: HDF5ElementType
    /// The chunk shape, or nil when the dataset is stored contiguously.
    public let chunkShape: [Int]?
    let id: hid_t
    let context: HDF5Context

    init(id: hid_t, context: HDF5Context) throws(HDF5Error) {
        self.id = id
        self.context = context
        let space = H5Dget_space(id)
        guard space >= 0 else {
            H5Dclose(id)
            throw context.failure("reading the dataspace")
        }
        defer { H5Sclose(space) }
        var dims = [hsize_t](repeating: 0, count: Int(max(H5Sget_simple_extent_ndims(space), 0)))
        H5Sget_simple_extent_dims(space, &dims, nil)
        shape = dims.map { Int($0) }
        let type = H5Dget_type(id)
        elementType = HDF5ElementType(datatype: type)
        H5Tclose(type)
        let creation = H5Dget_create_plist(id)
        defer { H5Pclose(creation) }
        if H5Pget_layout(creation) == H5D_CHUNKED {
            var chunk = [hsize_t](repeating: 0, count: dims.count)
            H5Pget_chunk(creation, Int32(chunk.count), &chunk)
            chunkShape = chunk.map { Int($0) }
        } else {
            chunkShape = nil
        }
    }

    deinit {
        H5Dclose(id)
    }

    /// The dataset's attributes.
    public var attributes: HDF5Attributes {
        HDF5Attributes(owner: self, location: id, context: context)
    }

    /// The number of elements in one row (one index of the first dimension).
    public var rowCount: Int {
        shape.dropFirst().reduce(1, *)
    }

    /// Reads rows `rows` of the first dimension into `buffer`, which must hold at least `rows.count * rowCount` values.
    public func read<T: HDF5Scalar>(rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<T>) throws(HDF5Error) {
        HDF5Library.silenceErrorPrinting()
        let memoryType = try requireType(T.self)
        try requireCapacity(rows: rows, buffer: buffer.count)
        guard !rows.isEmpty, let base = buffer.baseAddress else { return }
        let (fileSpace, memorySpace) = try selection(rows: rows)
        defer { H5Sclose(fileSpace); H5Sclose(memorySpace) }
        try context.check(H5Dread(id, memoryType, memorySpace, fileSpace, dtrain_h5p_default(), base),
                          "reading rows \(rows.lowerBound)..<\(rows.upperBound)")
    }

    /// Writes rows `rows` of the first dimension from `buffer`, which must hold `rows.count * rowCount` values or more.
    public func write<T: HDF5Scalar>(rows: Range<Int>, from buffer: UnsafeBufferPointer<T>) throws(HDF5Error) {
        HDF5Library.silenceErrorPrinting()
        let memoryType = try requireType(T.self)
        try requireCapacity(rows: rows, buffer: buffer.count)
        guard !rows.isEmpty, let base = buffer.baseAddress else { return }
        let (fileSpace, memorySpace) = try selection(rows: rows)
        defer { H5Sclose(fileSpace); H5Sclose(memorySpace) }
        try context.check(H5Dwrite(id, memoryType, memorySpace, fileSpace, dtrain_h5p_default(), base),
                          "writing rows \(rows.lowerBound)..<\(rows.upperBound)")
    }

    /// Extends the first dimension to `rows` (a dataset created growable), so that rows can be appended.
    public func grow(toRows rows: Int) throws(HDF5Error) {
        HDF5Library.silenceErrorPrinting()
        var extent = shape.map { hsize_t($0) }
        extent[0] = hsize_t(rows)
        try context.check(H5Dset_extent(id, extent), "extending to \(rows) rows")
        shape[0] = rows
    }

    /// Reads the whole dataset, row-major.
    public func readAll<T: HDF5Scalar>(as type: T.Type = T.self) throws(HDF5Error) -> [T] {
        HDF5Library.silenceErrorPrinting()
        let memoryType = try requireType(T.self)
        let count = shape.reduce(1, *)
        guard count > 0 else { return [] }
        var status: herr_t = 0
        let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            status = H5Dread(id, memoryType, dtrain_h5s_all(), dtrain_h5s_all(), dtrain_h5p_default(),
                             buffer.baseAddress)
            initialized = status >= 0 ? count : 0
        }
        try context.check(status, "reading the dataset")
        return values
    }

    /// Writes the whole dataset from `values` (row-major, exactly as many values as the shape holds).
    public func writeAll<T: HDF5Scalar>(_ values: [T]) throws(HDF5Error) {
        HDF5Library.silenceErrorPrinting()
        let memoryType = try requireType(T.self)
        let count = shape.reduce(1, *)
        guard values.count == count else {
            throw .invalidRequest(file: file, object: name,
                                  reason: "\(values.count) values given, the shape \(shape) holds \(count)")
        }
        guard count > 0 else { return }
        let status = values.withUnsafeBufferPointer {
            H5Dwrite(id, memoryType, dtrain_h5s_all(), dtrain_h5s_all(), dtrain_h5p_default(), $0.baseAddress)
        }
        try context.check(status, "writing the dataset")
    }

    /// The dataset access properties with a chunk cache of `chunkCacheBytes`.
    static func accessProperties(context: HDF5Context, chunkCacheBytes: Int) throws(HDF5Error) -> hid_t {
        let access = try context.check(H5Pcreate(dtrain_h5p_dataset_access()), "creating dataset access properties")
        guard H5Pset_chunk_cache(access, chunkCacheSlots, max(chunkCacheBytes, 0), 0.75) >= 0 else {
            H5Pclose(access)
            throw context.failure("setting the chunk cache")
        }
        return access
    }

    private func requireType<T: HDF5Scalar>(_ type: T.Type) throws(HDF5Error) -> hid_t {
        // No silent conversions: reading int64 into Int32 or float64 into Float would clip or round unseen.
        guard elementType == T.elementType, let memoryType = T.elementType.memoryType else {
            throw .wrongType(file: file, object: name, found: elementType.description,
                             expected: T.elementType.description)
        }
        return memoryType
    }

    private func requireCapacity(rows: Range<Int>, buffer: Int) throws(HDF5Error) {
        guard !shape.isEmpty else {
            throw .invalidRequest(file: file, object: name, reason: "a scalar dataset has no rows")
        }
        guard rows.lowerBound >= 0, rows.upperBound <= shape[0] else {
            throw .invalidRequest(file: file, object: name,
                                  reason: "rows \(rows.lowerBound)..<\(rows.upperBound) outside 0..<\(shape[0])")
        }
        guard buffer >= rows.count * rowCount else {
            throw .invalidRequest(file: file, object: name,
                                  reason: "buffer of \(buffer) values, rows \(rows.lowerBound)..<\(rows.upperBound) "
                                      + "need \(rows.count * rowCount)")
        }
    }

    /// The file selection of `rows` and a matching memory dataspace.
    private func selection(rows: Range<Int>) throws(HDF5Error) -> (file: hid_t, memory: hid_t) {
        let fileSpace = try context.check(H5Dget_space(id), "reading the dataspace")
        var start = [hsize_t](repeating: 0, count: shape.count)
        var count = shape.map { hsize_t($0) }
        start[0] = hsize_t(rows.lowerBound)
        count[0] = hsize_t(rows.count)
        guard H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nil, count, nil) >= 0 else {
            H5Sclose(fileSpace)
            throw context.failure("selecting rows \(rows.lowerBound)..<\(rows.upperBound)")
        }
        let memorySpace = H5Screate_simple(Int32(count.count), count, nil)
        guard memorySpace >= 0 else {
            H5Sclose(fileSpace)
            throw context.failure("creating the memory dataspace")
        }
        return (fileSpace, memorySpace)
    }
}
