import Testing
import TensorBoard

/// The framing's checksum against published values; the files as a whole are read back by TensorBoard's own reader
/// in TrainerTests/TensorBoardLogTests.
@Suite struct TFRecordTests {
    /// RFC 3720 (iSCSI) B.4 lists CRC-32C check values; "123456789" is the usual check string.
    @Test func crc32cMatchesPublishedValues() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
    }

    @Test func recordIsLengthChecksumPayloadChecksum() {
        let payload = Array("event".utf8)
        let record = TFRecord.frame(payload)
        #expect(record.count == 8 + 4 + payload.count + 4)
        #expect(Array(record[0..<8]) == [5, 0, 0, 0, 0, 0, 0, 0])
        let crc = CRC32C.checksum(payload)
        let masked = ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
        let stored = record[(record.count - 4)...].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) }
        #expect(stored == masked)
        #expect(Array(record[12..<(12 + payload.count)]) == payload)
    }
}
