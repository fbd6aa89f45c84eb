import Foundation
import HDF5
import Testing

/// Failures name the file and the object, in one line.
@Suite struct HDF5ErrorTests {
    @Test func missingFile() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("absent.h5")
        let error = #expect(throws: HDF5Error.self) { try HDF5File.open(path) }
        #expect(error == .fileNotFound(file: path))
        #expect(error?.description == "\(path): no such file")
    }

    @Test func textFileIsNotHDF5() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("notes.txt")
        try "just some text\n".write(toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: HDF5Error.self) { try HDF5File.open(path) }
        #expect(error == .notHDF5(file: path))
        #expect(error?.description == "\(path): not an HDF5 file")
    }

    @Test func missingDatasetAndGroup() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("empty.h5")
        let file = try HDF5File.create(path)
        _ = try file.createGroup("group")
        let dataset = #expect(throws: HDF5Error.self) { try file.openDataset("images") }
        #expect(dataset?.description == "\(path): /images does not exist")
        let nested = #expect(throws: HDF5Error.self) { try file.openDataset("group/labels") }
        #expect(nested?.description == "\(path): /group/labels does not exist")
        let group = #expect(throws: HDF5Error.self) { try file.openGroup("absent/deeper") }
        #expect(group?.description == "\(path): /absent/deeper does not exist")
        let notDataset = #expect(throws: HDF5Error.self) { try file.openDataset("group") }
        #expect(notDataset?.description == "\(path): /group is not a dataset, expected a dataset")
    }

    @Test func readsCheckTypeRowsAndBufferSize() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("checks.h5")
        let file = try HDF5File.create(path)
        let dataset = try file.createDataset("images", type: .float32, shape: [4, 3])
        var bytes = [UInt8](repeating: 0, count: 12)
        let type = #expect(throws: HDF5Error.self) {
            try bytes.withUnsafeMutableBufferPointer { try dataset.read(rows: 0..<4, into: $0) }
        }
        #expect(type?.description == "\(path): /images is float32, expected uint8")
        var floats = [Float](repeating: 0, count: 6)
        let rows = #expect(throws: HDF5Error.self) {
            try floats.withUnsafeMutableBufferPointer { try dataset.read(rows: 3..<5, into: $0) }
        }
        #expect(rows?.description == "\(path): /images: rows 3..<5 outside 0..<4")
        let small = #expect(throws: HDF5Error.self) {
            try floats.withUnsafeMutableBufferPointer { try dataset.read(rows: 0..<3, into: $0) }
        }
        #expect(small?.description == "\(path): /images: buffer of 6 values, rows 0..<3 need 9")
        let unchunked = #expect(throws: HDF5Error.self) {
            try file.createDataset("sums", type: .float64, shape: [4], fletcher32: true)
        }
        #expect(unchunked?.description == "\(path): /sums: Fletcher-32 checksums need a chunked dataset")
    }

    @Test func creatingInAMissingFolderSaysWhy() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("no/such/folder/out.h5")
        let error = #expect(throws: HDF5Error.self) { try HDF5File.create(path) }
        #expect(error?.description.hasPrefix("\(path): /: creating the file failed (") == true)
    }
}
