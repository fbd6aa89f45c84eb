/// dtrain's own 64-bit checksum of a checkpoint: FNV-1a over 8-byte little-endian words.
///
/// Fletcher-32 guards each chunk on its own; this guards the whole: a dataset that is missing, swapped with
/// another or rewritten with fresh Fletcher sums, or an attribute that changed, all change this value.
/// Every field is fed as its byte length followed by its bytes zero-padded to whole words, so fields cannot run
/// into each other. Words rather than bytes make it eight times faster over hundreds of megabytes.
struct CheckpointChecksum {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    /// The value as 16 lowercase hex digits, as stored in the `checksum` attribute.
    var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Feeds one field: its length, then its bytes.
    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        mix(UInt64(bytes.count))
        let words = bytes.count / 8
        var hash = value
        for index in 0..<words {
            hash = (hash ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)))
                &* 0x0000_0100_0000_01b3
        }
        value = hash
        var tail: UInt64 = 0
        for index in (words * 8)..<bytes.count {
            tail |= UInt64(bytes[index]) << (8 * UInt64(index - words * 8))
        }
        if bytes.count % 8 != 0 { mix(tail) }
    }

    /// Feeds a string's UTF-8 bytes as one field.
    mutating func add(_ text: String) {
        var text = text
        text.withUTF8 { add(UnsafeRawBufferPointer($0)) }
    }

    /// Feeds float32 values as one field, in their little-endian bytes.
    mutating func add(_ values: UnsafeBufferPointer<Float>) {
        add(UnsafeRawBufferPointer(values))
    }

    private mutating func mix(_ word: UInt64) {
        value = (value ^ word) &* 0x0000_0100_0000_01b3
    }
}
