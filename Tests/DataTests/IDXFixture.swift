import CZlib
import Foundation
import Testing

/// Writes IDX files (the MNIST format) for tests, plain or gzip-compressed, from a magic number, a header and data.
enum IDXFixture {
    /// The bytes of an IDX file: big-endian magic, big-endian dimensions, then `data`.
    static func bytes(magic: UInt32, dimensions: [Int], data: [UInt8]) -> [UInt8] {
        let words = [magic] + dimensions.map { UInt32($0) }
        return words.flatMap { word in (0..<4).reversed().map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } } + data
    }

    /// Writes `bytes` to `path`, through gzip when `compressed`.
    static func write(_ bytes: [UInt8], to path: String, compressed: Bool) throws {
        guard compressed else {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return
        }
        let file = try #require(gzopen(path, "wb"))
        let written = bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
        gzclose(file)
        #expect(Int(written) == bytes.count)
    }
}
