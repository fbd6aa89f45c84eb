import CHDF5

/// The kind of numbers a dataset or attribute stores.
public enum HDF5ElementType: Equatable, Sendable, CustomStringConvertible {
    case uint8
    case int32
    case int64
    case float32
    case float64
    /// Any other HDF5 type, described in words ("int16", "variable-length string", "compound").
    case other(String)

    /// The name users know the type by (as in NumPy).
    public var description: String {
        switch self {
        case .uint8: "uint8"
        case .int32: "int32"
        case .int64: "int64"
        case .float32: "float32"
        case .float64: "float64"
        case .other(let description): description
        }
    }

    /// The little-endian type stored in files (what h5py writes on every common machine).
    var fileType: hid_t? {
        switch self {
        case .uint8: dtrain_h5t_std_u8le()
        case .int32: dtrain_h5t_std_i32le()
        case .int64: dtrain_h5t_std_i64le()
        case .float32: dtrain_h5t_ieee_f32le()
        case .float64: dtrain_h5t_ieee_f64le()
        case .other: nil
        }
    }

    /// The type of the values in this process's memory.
    var memoryType: hid_t? {
        switch self {
        case .uint8: dtrain_h5t_native_uint8()
        case .int32: dtrain_h5t_native_int32()
        case .int64: dtrain_h5t_native_int64()
        case .float32: dtrain_h5t_native_float()
        case .float64: dtrain_h5t_native_double()
        case .other: nil
        }
    }

    /// The element type of an HDF5 datatype identifier.
    init(datatype: hid_t) {
        let size = H5Tget_size(datatype)
        switch H5Tget_class(datatype) {
        case H5T_INTEGER:
            let signed = H5Tget_sign(datatype) == H5T_SGN_2
            switch (signed, size) {
            case (false, 1): self = .uint8
            case (true, 4): self = .int32
            case (true, 8): self = .int64
            default: self = .other("\(signed ? "int" : "uint")\(size * 8)")
            }
        case H5T_FLOAT:
            switch size {
            case 4: self = .float32
            case 8: self = .float64
            default: self = .other("float\(size * 8)")
            }
        case H5T_STRING:
            self = .other(H5Tis_variable_str(datatype) > 0 ? "a variable-length string" : "a fixed-length string")
        case H5T_COMPOUND: self = .other("compound")
        case H5T_ENUM: self = .other("enum")
        case H5T_ARRAY: self = .other("array")
        case H5T_VLEN: self = .other("variable-length sequence")
        case H5T_BITFIELD: self = .other("bitfield")
        case H5T_OPAQUE: self = .other("opaque")
        case H5T_REFERENCE: self = .other("reference")
        case H5T_TIME: self = .other("time")
        default: self = .other("an unknown type")
        }
    }
}
