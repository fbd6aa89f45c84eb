/// A Swift number type that HDF5 datasets can be read into and written from without conversion.
public protocol HDF5Scalar: Sendable {
    /// The dataset element type that holds values of this Swift type.
    static var elementType: HDF5ElementType { get }
}

extension UInt8: HDF5Scalar {
    /// `uint8`.
    public static var elementType: HDF5ElementType { .uint8 }
}

extension Int32: HDF5Scalar {
    /// `int32`.
    public static var elementType: HDF5ElementType { .int32 }
}

extension Int64: HDF5Scalar {
    /// `int64`.
    public static var elementType: HDF5ElementType { .int64 }
}

extension Float: HDF5Scalar {
    /// `float32`.
    public static var elementType: HDF5ElementType { .float32 }
}

extension Double: HDF5Scalar {
    /// `float64`.
    public static var elementType: HDF5ElementType { .float64 }
}
