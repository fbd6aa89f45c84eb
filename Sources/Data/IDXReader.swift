import CZlib
import Foundation

/// Reads an IDX file of unsigned bytes (the MNIST format), plain or gzip-compressed, front to back.
///
/// The format: a big-endian magic number 0x000008DD (0x08 = unsigned bytes, DD = number of dimensions), one
/// big-endian UInt32 per dimension, then the bytes in row-major order. zlib's gzread passes plain files through
/// unchanged, so one code path reads both kinds.
final class IDXReader {
    /// The file's path.
    let path: String
    /// The extents declared in the header, outermost (the sample count) first.
    let dimensions: [Int]
    private let handle: gzFile

    /// Opens `path` and reads its header, which must declare unsigned bytes in `rank` dimensions.
    init(path: String, rank: Int, contents: String) throws(DataError) {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else { throw .missingFile(file: path) }
        guard let handle = gzopen(path, "rb") else {
            throw .io(file: path, reason: "cannot open (\(String(cString: strerror(errno))))")
        }
        // Large reads: the default 8 KiB buffer makes decompression call the OS thousands of times per file.
        gzbuffer(handle, 1 << 20)
        do {
            dimensions = try Self.readHeader(handle, path: path, rank: rank, contents: contents)
        } catch {
            gzclose(handle)
            throw error
        }
        self.handle = handle
    }

    deinit {
        gzclose(handle)
    }

    /// Reads exactly `count` bytes of data into `destination`; a file that ends sooner is reported as truncated.
    func read(into destination: UnsafeMutableRawPointer, count: Int) throws(DataError) {
        var done = 0
        while done < count {
            // gzread takes an unsigned 32-bit length: read in slices of at most 1 GiB.
            let slice = UInt32(min(count - done, 1 << 30))
            let got = gzread(handle, destination + done, slice)
            guard got > 0 else {
                if got < 0 { throw damaged() }
                throw .badIDX(file: path, reason: "file is truncated: the header \(dimensions) promises "
                              + "\(dimensions.reduce(1, *)) data bytes, the file ends \(count - done) bytes early")
            }
            done += Int(got)
        }
    }

    /// Confirms that no bytes follow the data the header declares (more would mean a mismatched header).
    func expectEnd() throws(DataError) {
        var extra = [UInt8](repeating: 0, count: 4096)
        var total = 0
        while true {
            let got = extra.withUnsafeMutableBytes { gzread(handle, $0.baseAddress, UInt32($0.count)) }
            if got < 0 { throw damaged() }
            if got == 0 { break }
            total += Int(got)
        }
        guard total == 0 else {
            throw .badIDX(file: path, reason: "\(total) bytes follow the \(dimensions.reduce(1, *)) data bytes "
                          + "that the header \(dimensions) declares")
        }
    }

    private func damaged() -> DataError {
        Self.damaged(handle, path: path)
    }

    private static func readHeader(_ handle: gzFile, path: String, rank: Int,
                                   contents: String) throws(DataError) -> [Int] {
        let expected = UInt32(0x0800) | UInt32(rank)
        let hex = { (value: UInt32) in "0x" + String(value, radix: 16).leftPadded(to: 8) }
        let magic = try readWord(handle, path: path, what: "the magic number")
        guard magic == expected else {
            throw .badIDX(file: path, reason: "magic number \(hex(magic)) is not \(hex(expected)) "
                          + "(IDX \(contents): unsigned bytes in \(rank) dimension\(rank == 1 ? "" : "s"))")
        }
        var dimensions: [Int] = []
        for index in 0..<rank {
            dimensions.append(Int(try readWord(handle, path: path, what: "dimension \(index) of the header")))
        }
        guard dimensions.allSatisfy({ $0 >= 1 }) else {
            throw .badIDX(file: path,
                          reason: "header declares dimensions \(dimensions), expected every extent at least 1")
        }
        return dimensions
    }

    private static func readWord(_ handle: gzFile, path: String, what: String) throws(DataError) -> UInt32 {
        var bytes = [UInt8](repeating: 0, count: 4)
        let got = bytes.withUnsafeMutableBytes { gzread(handle, $0.baseAddress, 4) }
        if got < 0 { throw damaged(handle, path: path) }
        guard got == 4 else { throw .badIDX(file: path, reason: "file ends inside \(what) (not an IDX file)") }
        return bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }

    private static func damaged(_ handle: gzFile, path: String) -> DataError {
        var code: Int32 = 0
        let message = gzerror(handle, &code).map { String(cString: $0) } ?? "unknown error"
        return .badIDX(file: path, reason: "gzip data is damaged or truncated (zlib: \(message))")
    }
}

extension String {
    /// The string preceded by zeros up to `width` characters.
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
