/// TFRecord framing, the container of TensorBoard event files: for each record, its length as a little-endian
/// UInt64, the masked CRC-32C of those 8 bytes, the record's bytes and their masked CRC-32C.
public enum TFRecord {
    /// `payload` framed as one record.
    public static func frame(_ payload: [UInt8]) -> [UInt8] {
        let length = littleEndianBytes(UInt64(payload.count))
        return length + littleEndianBytes(CRC32C.masked(length)) + payload + littleEndianBytes(CRC32C.masked(payload))
    }

    private static func littleEndianBytes<Value: FixedWidthInteger>(_ value: Value) -> [UInt8] {
        (0..<(Value.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }
}
