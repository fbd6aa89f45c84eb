import Data
import Foundation
import HDF5
import Testing

/// A valid file opens with the right properties; each kind of bad file fails with a line naming file and key.
@Suite struct DatasetFileTests {
    @Test func validFileOpensWithItsProperties() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("valid.h5")
        let fixture = DatasetFixture()
        try fixture.write(to: path)
        let dataset = try DatasetFile(path: path)
        #expect(dataset.path == path)
        #expect(dataset.count == 6)
        #expect(dataset.sampleShape == [2, 3, 4])
        #expect(dataset.sampleBytes == 24)
        #expect(dataset.classNames == ["cat", "dog", "bird"])
        #expect(dataset.mean == [0.25, 0.5])
        #expect(dataset.std == [0.125, 0.25])
        #expect(dataset.labels == [0, 1, 2, 0, 1, 2])
        #expect(dataset.chunkRows == 4)
        #expect(dataset.source == "fixture")
        // Rows 3..<6 straddle the chunk boundary at 4.
        var rows = [UInt8](repeating: 0, count: 3 * 24)
        try rows.withUnsafeMutableBufferPointer { try dataset.readImages(rows: 3..<6, into: $0.baseAddress!) }
        #expect(rows == Array(fixture.pixels[72..<144]))
    }

    @Test func contiguousImagesAreAccepted() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("contiguous.h5")
        var fixture = DatasetFixture()
        fixture.imagesChunk = nil
        try fixture.write(to: path)
        #expect(try DatasetFile(path: path).chunkRows == 6)
    }

    /// Opens a fixture changed by `change` and returns the error's line with the path replaced by "FILE".
    func failure(_ change: (inout DatasetFixture) -> Void) throws -> String {
        let folder = TemporaryDirectory()
        let path = folder.file("bad.h5")
        var fixture = DatasetFixture()
        change(&fixture)
        try fixture.write(to: path)
        let error = #expect(throws: DataError.self) { try DatasetFile(path: path) }
        return error?.description.replacingOccurrences(of: path, with: "FILE") ?? "no error"
    }

    @Test func missingFileAndNotHDF5() throws {
        let folder = TemporaryDirectory()
        let missing = folder.file("absent.h5")
        #expect(throws: DataError.missingFile(file: missing)) { try DatasetFile(path: missing) }
        let text = folder.file("labels.csv")
        try "0,1,2\n".write(toFile: text, atomically: true, encoding: .utf8)
        let error = #expect(throws: DataError.self) { try DatasetFile(path: text) }
        #expect(error?.description.hasPrefix("\(text): not an HDF5 file") == true)
    }

    @Test func missingDatasets() throws {
        #expect(try failure { $0.writeImages = false }
                == "FILE: dataset images is missing, expected uint8 [N, C, H, W]")
        #expect(try failure { $0.writeLabels = false } == "FILE: dataset labels is missing, expected int32 [N]")
    }

    @Test func wrongElementTypes() throws {
        #expect(try failure { $0.imagesType = .float32 } == "FILE: images is float32, expected uint8")
        #expect(try failure { $0.labelsType = .int64 } == "FILE: labels is int64, expected int32")
    }

    @Test func wrongShapes() throws {
        #expect(try failure {
            $0.imagesShape = [6, 12]
            $0.imagesChunk = nil
        } == "FILE: images has shape [6, 12], expected [N, C, H, W] with every extent at least 1")
        #expect(try failure { $0.imagesChunk = [2, 1, 3, 4] }
                == "FILE: the chunk of images has shape [2, 1, 3, 4], expected [rows, 2, 3, 4] (whole images)")
        #expect(try failure { $0.labels = [0, 1, 2, 0, 1] }
                == "FILE: labels has 5 entries but images has 6 rows, expected one label per image")
    }

    @Test func labelOutOfRange() throws {
        #expect(try failure { $0.labels[4] = 11 }
                == "FILE: labels[4] = 11 is outside 0..<3 (3 classes in attribute classes)")
        #expect(try failure { $0.labels[0] = -1 }
                == "FILE: labels[0] = -1 is outside 0..<3 (3 classes in attribute classes)")
    }

    @Test func missingAndMalformedAttributes() throws {
        #expect(try failure { $0.attributes["classes"] = nil }
                == "FILE: attribute classes is missing, expected an array of class names")
        #expect(try failure { $0.attributes["source"] = nil }
                == "FILE: attribute source is missing, expected a string saying what the file was packed from")
        #expect(try failure { $0.attributes["format"] = nil }
                == "FILE: attribute format is missing, expected the string \"dtrain-dataset\"")
        #expect(try failure { $0.attributes["format"] = .string("imagenet") }
                == "FILE: attribute format is \"imagenet\", expected \"dtrain-dataset\"")
        #expect(try failure { $0.attributes["version"] = .int(2) }
                == "FILE: attribute version is 2, expected 1 (the layout this dtrain reads)")
        #expect(try failure { $0.attributes["mean"] = .doubles([0.5, 0.5, 0.5]) }
                == "FILE: attribute mean is 3 values, expected 2 floats, one per channel")
        #expect(try failure { $0.attributes["std"] = .doubles([0.2, 0]) }
                == "FILE: attribute std is [0.2, 0.0] (element 1 is 0.0), expected 2 positive floats, one per channel")
        #expect(try failure { $0.attributes["mean"] = .string("0.5,0.5") }
                == "FILE: attribute mean is a variable-length string, expected 2 floats, one per channel")
        #expect(try failure { $0.attributes["classes"] = .strings([]) }
                == "FILE: attribute classes is empty, expected at least one class name")
    }

    @Test func rowsOutsideTheFileAreRefused() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("valid.h5")
        try DatasetFixture().write(to: path)
        let dataset = try DatasetFile(path: path)
        var rows = [UInt8](repeating: 0, count: 10 * 24)
        let error = #expect(throws: DataError.self) {
            try rows.withUnsafeMutableBufferPointer { try dataset.readImages(rows: 4..<8, into: $0.baseAddress!) }
        }
        #expect(error?.description == "\(path): rows 4..<8 are outside 0..<6")
    }
}
