import Comm

/// An element type the communicator reduces, so that one check covers Float, Double and Int64.
protocol ReducibleElement: Equatable, CustomStringConvertible {
    /// The element with the integer value `value` (exact for the small values the checks use).
    static func make(_ value: Int) -> Self
    /// Reduces `buffer` over all ranks through the communicator's overload for this type.
    static func allreduce(_ buffer: UnsafeMutableBufferPointer<Self>, _ operation: ReduceOperation,
                          _ communicator: Communicator)
}

extension Float: ReducibleElement {
    static func make(_ value: Int) -> Float { Float(value) }
    static func allreduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ operation: ReduceOperation,
                          _ communicator: Communicator) {
        communicator.allreduce(buffer, operation)
    }
}

extension Double: ReducibleElement {
    static func make(_ value: Int) -> Double { Double(value) }
    static func allreduce(_ buffer: UnsafeMutableBufferPointer<Double>, _ operation: ReduceOperation,
                          _ communicator: Communicator) {
        communicator.allreduce(buffer, operation)
    }
}

extension Int64: ReducibleElement {
    static func make(_ value: Int) -> Int64 { Int64(value) }
    static func allreduce(_ buffer: UnsafeMutableBufferPointer<Int64>, _ operation: ReduceOperation,
                          _ communicator: Communicator) {
        communicator.allreduce(buffer, operation)
    }
}
