import CHDF5
import Foundation

/// The attributes of a file, group or dataset: small named values (strings, integers, doubles and arrays of them).
///
/// Writing an attribute that exists replaces it. Reading one that is missing, or that holds another kind of
/// value than asked for, throws an error naming the file, the object and the attribute.
public struct HDF5Attributes {
    /// Keeps the group or dataset, and so `location`, open while the attributes are in use.
    let owner: AnyObject
    let location: hid_t
    let context: HDF5Context

    /// The path of the file holding the attributes.
    public var file: String { context.file }
    /// The path of the group or dataset the attributes belong to.
    public var object: String { context.object }

    /// Whether an attribute called `name` exists.
    public func contains(_ name: String) -> Bool {
        HDF5Library.silenceErrorPrinting()
        return H5Aexists(location, name) > 0
    }

    // MARK: Writing

    /// Writes a variable-length UTF-8 string (what h5py writes for a Python `str`).
    public func set(_ name: String, _ value: String) throws(HDF5Error) {
        try writeStrings(name, [value], scalar: true)
    }

    /// Writes a one-dimensional array of variable-length UTF-8 strings.
    public func set(_ name: String, _ value: [String]) throws(HDF5Error) {
        try writeStrings(name, value, scalar: false)
    }

    /// Writes a 64-bit integer.
    public func set(_ name: String, _ value: Int) throws(HDF5Error) {
        try writeNumbers(name, [Int64(value)], scalar: true)
    }

    /// Writes a one-dimensional array of 64-bit integers.
    public func set(_ name: String, _ value: [Int]) throws(HDF5Error) {
        try writeNumbers(name, value.map { Int64($0) }, scalar: false)
    }

    /// Writes a 64-bit float.
    public func set(_ name: String, _ value: Double) throws(HDF5Error) {
        try writeNumbers(name, [value], scalar: true)
    }

    /// Writes a one-dimensional array of 64-bit floats.
    public func set(_ name: String, _ value: [Double]) throws(HDF5Error) {
        try writeNumbers(name, value, scalar: false)
    }

    // MARK: Reading

    /// Reads one string, stored fixed- or variable-length.
    public func read(_ name: String, as type: String.Type) throws(HDF5Error) -> String {
        let values = try readStrings(name)
        guard values.count == 1 else { throw wrongCount(name, values.count, "a string") }
        return values[0]
    }

    /// Reads an array of strings, stored fixed- or variable-length (a single string reads as one element).
    public func read(_ name: String, as type: [String].Type) throws(HDF5Error) -> [String] {
        try readStrings(name)
    }

    /// Reads one integer, stored as any integer type.
    public func read(_ name: String, as type: Int.Type) throws(HDF5Error) -> Int {
        let values: [Int64] = try readNumbers(name, integer: true)
        guard values.count == 1 else { throw wrongCount(name, values.count, "one integer") }
        return Int(values[0])
    }

    /// Reads an array of integers, stored as any integer type (a single integer reads as one element).
    public func read(_ name: String, as type: [Int].Type) throws(HDF5Error) -> [Int] {
        let values: [Int64] = try readNumbers(name, integer: true)
        return values.map { Int($0) }
    }

    /// Reads one float, stored as float32 or float64.
    public func read(_ name: String, as type: Double.Type) throws(HDF5Error) -> Double {
        let values: [Double] = try readNumbers(name, integer: false)
        guard values.count == 1 else { throw wrongCount(name, values.count, "one float") }
        return values[0]
    }

    /// Reads an array of floats, stored as float32 or float64 (a single float reads as one element).
    public func read(_ name: String, as type: [Double].Type) throws(HDF5Error) -> [Double] {
        try readNumbers(name, integer: false)
    }

    // MARK: Implementation

    private func attributeContext(_ name: String) -> HDF5Context {
        context.child("attribute \(name) of \(context.object)")
    }

    private func wrongCount(_ name: String, _ count: Int, _ expected: String) -> HDF5Error {
        let context = attributeContext(name)
        return .wrongType(file: context.file, object: context.object, found: "an array of \(count) values",
                          expected: expected)
    }

    /// Creates attribute `name` of `fileType` over `count` elements (or a scalar), replacing an existing one.
    private func create(_ name: String, fileType: hid_t, count: Int, scalar: Bool) throws(HDF5Error) -> hid_t {
        HDF5Library.silenceErrorPrinting()
        let context = attributeContext(name)
        if H5Aexists(location, name) > 0 {
            try context.check(H5Adelete(location, name), "replacing the attribute")
        }
        let space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, [hsize_t(count)], nil)
        try context.check(space, "creating the dataspace")
        defer { H5Sclose(space) }
        let attribute = H5Acreate2(location, name, fileType, space, dtrain_h5p_default(), dtrain_h5p_default())
        return try context.check(attribute, "creating the attribute")
    }

    private func writeNumbers<T: HDF5Scalar>(_ name: String, _ values: [T], scalar: Bool) throws(HDF5Error) {
        let context = attributeContext(name)
        let attribute = try create(name, fileType: T.elementType.fileType!, count: values.count, scalar: scalar)
        defer { H5Aclose(attribute) }
        let status = values.withUnsafeBufferPointer { H5Awrite(attribute, T.elementType.memoryType!, $0.baseAddress) }
        try context.check(status, "writing the attribute")
    }

    /// A variable-length UTF-8 string type; the caller closes it.
    private func variableStringType(_ context: HDF5Context) throws(HDF5Error) -> hid_t {
        let type = try context.check(H5Tcopy(dtrain_h5t_c_s1()), "creating a string type")
        guard H5Tset_size(type, dtrain_h5t_variable()) >= 0, H5Tset_cset(type, H5T_CSET_UTF8) >= 0 else {
            H5Tclose(type)
            throw context.failure("creating a string type")
        }
        return type
    }

    private func writeStrings(_ name: String, _ values: [String], scalar: Bool) throws(HDF5Error) {
        let context = attributeContext(name)
        let type = try variableStringType(context)
        defer { H5Tclose(type) }
        let attribute = try create(name, fileType: type, count: values.count, scalar: scalar)
        defer { H5Aclose(attribute) }
        let pointers: [UnsafeMutablePointer<CChar>?] = values.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        let status = pointers.withUnsafeBufferPointer { H5Awrite(attribute, type, $0.baseAddress) }
        try context.check(status, "writing the attribute")
    }

    /// Opens attribute `name` and reports its datatype and element count; the caller closes all three identifiers.
    private func open(_ name: String) throws(HDF5Error) -> (attribute: hid_t, type: hid_t, space: hid_t, count: Int) {
        HDF5Library.silenceErrorPrinting()
        let context = attributeContext(name)
        guard H5Aexists(location, name) > 0 else { throw .missingObject(file: context.file, object: context.object) }
        let attribute = try context.check(H5Aopen(location, name, dtrain_h5p_default()), "opening the attribute")
        let type = H5Aget_type(attribute)
        let space = H5Aget_space(attribute)
        guard type >= 0, space >= 0 else {
            if type >= 0 { H5Tclose(type) }
            if space >= 0 { H5Sclose(space) }
            H5Aclose(attribute)
            throw context.failure("reading the attribute's type")
        }
        return (attribute, type, space, Int(H5Sget_simple_extent_npoints(space)))
    }

    private func readNumbers<T: HDF5Scalar>(_ name: String, integer: Bool) throws(HDF5Error) -> [T] {
        let context = attributeContext(name)
        let (attribute, type, space, count) = try open(name)
        defer { H5Aclose(attribute); H5Tclose(type); H5Sclose(space) }
        guard H5Tget_class(type) == (integer ? H5T_INTEGER : H5T_FLOAT) else {
            throw .wrongType(file: context.file, object: context.object,
                             found: HDF5ElementType(datatype: type).description,
                             expected: integer ? "an integer" : "a float")
        }
        var status: herr_t = 0
        // HDF5 converts any stored integer (or float) width to the 64-bit memory type exactly.
        let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            status = count == 0 ? 0 : H5Aread(attribute, T.elementType.memoryType!, buffer.baseAddress)
            initialized = status >= 0 ? count : 0
        }
        try context.check(status, "reading the attribute")
        return values
    }

    private func readStrings(_ name: String) throws(HDF5Error) -> [String] {
        let context = attributeContext(name)
        let (attribute, type, space, count) = try open(name)
        defer { H5Aclose(attribute); H5Tclose(type); H5Sclose(space) }
        guard H5Tget_class(type) == H5T_STRING else {
            throw .wrongType(file: context.file, object: context.object,
                             found: HDF5ElementType(datatype: type).description, expected: "a string")
        }
        guard count > 0 else { return [] }
        if H5Tis_variable_str(type) > 0 {
            let memoryType = try variableStringType(context)
            defer { H5Tclose(memoryType) }
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            try context.check(H5Aread(attribute, memoryType, &pointers), "reading the attribute")
            defer { H5Dvlen_reclaim(memoryType, space, dtrain_h5p_default(), &pointers) }
            return pointers.map { $0.map { String(cString: $0) } ?? "" }
        }
        // Fixed-length strings are byte arrays, padded with NULs (h5py, NumPy "S") or spaces (Fortran).
        let size = H5Tget_size(type)
        let spacePadded = H5Tget_strpad(type) == H5T_STR_SPACEPAD
        var bytes = [UInt8](repeating: 0, count: size * count)
        try context.check(H5Aread(attribute, type, &bytes), "reading the attribute")
        return (0..<count).map { index in
            var field = bytes[(index * size)..<((index + 1) * size)]
            if let end = field.firstIndex(of: 0) { field = field[..<end] }
            if spacePadded { while field.last == 0x20 { field = field.dropLast() } }
            return String(decoding: field, as: UTF8.self)
        }
    }
}
