import Foundation
import HDF5

/// A dataset file written field by field with the HDF5 layer, valid by default, so each test can break one thing.
struct DatasetFixture {
    /// A value of a file attribute, in whichever kind the test wants to store.
    enum Attribute {
        case string(String)
        case strings([String])
        case int(Int)
        case doubles([Double])
    }

    var imagesType: HDF5ElementType = .uint8
    var imagesShape = [6, 2, 3, 4]
    var imagesChunk: [Int]? = [4, 2, 3, 4]
    var writeImages = true
    var labelsType: HDF5ElementType = .int32
    var labels: [Int] = [0, 1, 2, 0, 1, 2]
    var writeLabels = true
    var attributes: [String: Attribute] = [
        "format": .string("dtrain-dataset"),
        "version": .int(1),
        "classes": .strings(["cat", "dog", "bird"]),
        "mean": .doubles([0.25, 0.5]),
        "std": .doubles([0.125, 0.25]),
        "source": .string("fixture"),
    ]

    /// The pixel bytes written to `images` (when it is uint8): row-major, distinct enough to catch misplaced rows.
    var pixels: [UInt8] {
        (0..<imagesShape.reduce(1, *)).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }
    }

    func write(to path: String) throws {
        let file = try HDF5File.create(path)
        if writeImages {
            let images = try file.createDataset("images", type: imagesType, shape: imagesShape, chunk: imagesChunk)
            switch imagesType {
            case .uint8: try images.writeAll(pixels)
            case .float32: try images.writeAll(pixels.map { Float($0) })
            default: break
            }
        }
        if writeLabels {
            let data = try file.createDataset("labels", type: labelsType, shape: [labels.count])
            switch labelsType {
            case .int32: try data.writeAll(labels.map { Int32($0) })
            case .int64: try data.writeAll(labels.map { Int64($0) })
            case .uint8: try data.writeAll(labels.map { UInt8($0) })
            default: break
            }
        }
        let fileAttributes = try file.attributes
        for (name, value) in attributes {
            switch value {
            case .string(let text): try fileAttributes.set(name, text)
            case .strings(let texts): try fileAttributes.set(name, texts)
            case .int(let number): try fileAttributes.set(name, number)
            case .doubles(let numbers): try fileAttributes.set(name, numbers)
            }
        }
    }
}
