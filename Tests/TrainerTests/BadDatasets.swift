import Data
import HDF5

/// Dataset files that break the layout contract in one way each.
enum BadDatasets {
    /// Images stored as float32 instead of uint8.
    static func floatImages(_ path: String) throws -> String {
        try write(path, images: .float32, labels: Array(repeating: 0, count: 4))
    }

    /// A label of 11 in a 10-class file.
    static func labelOutOfRange(_ path: String) throws -> String {
        try write(path, images: .uint8, labels: [0, 1, 11, 2])
    }

    private static func write(_ path: String, images type: HDF5ElementType, labels: [Int32]) throws -> String {
        let file = try HDF5File.create(path)
        let images = try file.createDataset("images", type: type, shape: [labels.count, 1, 28, 28])
        if type == .float32 {
            try images.writeAll([Float](repeating: 0, count: labels.count * 784))
        } else {
            try images.writeAll([UInt8](repeating: 0, count: labels.count * 784))
        }
        try file.createDataset("labels", type: .int32, shape: [labels.count]).writeAll(labels)
        let attributes = try file.attributes
        try attributes.set("classes", (0..<10).map(String.init))
        try attributes.set("mean", [0.5])
        try attributes.set("std", [0.25])
        try attributes.set("source", "test")
        try attributes.set("format", DatasetFile.format)
        try attributes.set("version", DatasetFile.version)
        try file.close()
        return path
    }
}
