#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Communicator {
    /// Returns the reduction of `value` over all ranks.
    public func allreduce(_ value: Double, _ operation: ReduceOperation) -> Double {
        var value = value
        withUnsafeMutablePointer(to: &value) { allreduce(UnsafeMutableBufferPointer(start: $0, count: 1), operation) }
        return value
    }

    /// Returns the reduction of `value` over all ranks.
    public func allreduce(_ value: Int, _ operation: ReduceOperation) -> Int {
        var value = Int64(value)
        withUnsafeMutablePointer(to: &value) { allreduce(UnsafeMutableBufferPointer(start: $0, count: 1), operation) }
        return Int(value)
    }

    /// Returns `root`'s `value` on every rank.
    public func broadcast<Value: BitwiseCopyable>(_ value: Value, root: Int) -> Value {
        var value = value
        withUnsafeMutableBytes(of: &value) { broadcast($0, root: root) }
        return value
    }

    /// Replaces `values` on every rank with `root`'s array; the ranks' arrays need not have the same length before.
    public func broadcast<Element: BitwiseCopyable>(_ values: inout [Element], root: Int) {
        // The length goes first so that the receivers can size their arrays for the payload.
        let count = Int(broadcast(Int64(values.count), root: root))
        if rank == root {
            values.withUnsafeMutableBytes { broadcast($0, root: root) }
        } else {
            values = Array(unsafeUninitializedCapacity: count) { elements, initialized in
                broadcast(UnsafeMutableRawBufferPointer(elements), root: root)
                initialized = count
            }
        }
    }

    /// Returns `root`'s `string` on every rank; the other ranks' arguments are ignored.
    public func broadcast(_ string: String, root: Int) -> String {
        var bytes = rank == root ? Array(string.utf8) : []
        broadcast(&bytes, root: root)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// True on every rank when all ranks passed the same value (e.g. a fingerprint of config and shapes).
    ///
    /// Callers check this before their first real collective so that ranks that would issue different collectives
    /// stop with a clear message instead of hanging.
    public func agree(_ fingerprint: UInt64) -> Bool {
        // Bitwise not reverses the order of signed integers, so one max-reduction of (v, ~v) yields max(v) and
        // ~min(v): one collective instead of two.
        let value = Int64(bitPattern: fingerprint)
        var pair = [value, ~value]
        pair.withUnsafeMutableBufferPointer { allreduce($0, .max) }
        return pair[0] == ~pair[1]
    }

    /// Prints "rank R: message" to standard error, then ends every rank of the job with `code`.
    public func abort(_ message: String, code: Int32) -> Never {
        // One write, so that the line stays whole among the other ranks' output.
        var line = "rank \(rank): \(message)\n"
        line.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
        abort(code: code)
    }
}
