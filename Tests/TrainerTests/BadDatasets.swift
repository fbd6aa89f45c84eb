import Data
import Foundation
import HDF5

/// Dataset files that break the layout contract in one way each (4 images of 1x28x28 unless said otherwise).
enum BadDatasets {
    /// Images stored as float32 instead of uint8.
    static func floatImages(_ path: String) throws -> String {
        try write(path, images: .float32)
    }

    /// Images of shape [N, H, W]: the channel dimension is missing.
    static func imagesWithoutChannels(_ path: String) throws -> String {
        try write(path, shape: [4, 28, 28])
    }

    /// A label of 11 in a 10-class file.
    static func labelOutOfRange(_ path: String) throws -> String {
        try write(path, labels: [0, 1, 11, 2])
    }

    /// No `mean` attribute.
    static func withoutMean(_ path: String) throws -> String {
        try write(path, mean: nil)
    }

    /// A standard deviation of 0.
    static func zeroStd(_ path: String) throws -> String {
        try write(path, std: [0])
    }

    /// 64 images in chunks of 16 rows with HDF5's Fletcher-32 checksum (as h5py writes with `fletcher32=True`),
    /// one byte flipped in the third chunk (samples 32..<48).
    static func damagedThirdChunk(_ path: String) throws -> String {
        // The third chunk alone holds bytes 0x5A, so that its data can be found in the file.
        var pixels = [UInt8](repeating: 0, count: 64 * 784)
        for index in (32 * 784)..<(48 * 784) { pixels[index] = 0x5A }
        _ = try write(path, shape: [64, 1, 28, 28], pixels: pixels, labels: Array(repeating: 0, count: 64),
                      chunk: [16, 1, 28, 28], fletcher32: true)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let run = Data(repeating: 0x5A, count: 16 * 784)
        guard let chunk = bytes.firstRange(of: run) else { throw HDF5Error.missingObject(file: path, object: "chunk 3") }
        bytes[chunk.lowerBound + 1000] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: path))
        return path
    }

    private static func write(_ path: String, images type: HDF5ElementType = .uint8, shape: [Int] = [4, 1, 28, 28],
                              pixels: [UInt8]? = nil, labels: [Int32] = [0, 1, 2, 3], mean: [Double]? = [0.5],
                              std: [Double] = [0.25], chunk: [Int]? = nil, fletcher32: Bool = false) throws -> String {
        let file = try HDF5File.create(path)
        let images = try file.createDataset("images", type: type, shape: shape, chunk: chunk, fletcher32: fletcher32)
        let count = shape.reduce(1, *)
        if type == .float32 {
            try images.writeAll([Float](repeating: 0, count: count))
        } else {
            try images.writeAll(pixels ?? [UInt8](repeating: 0, count: count))
        }
        try file.createDataset("labels", type: .int32, shape: [labels.count]).writeAll(labels)
        let attributes = try file.attributes
        try attributes.set("classes", (0..<10).map(String.init))
        if let mean { try attributes.set("mean", mean) }
        try attributes.set("std", std)
        try attributes.set("source", "test")
        try attributes.set("format", DatasetFile.format)
        try attributes.set("version", DatasetFile.version)
        try file.close()
        return path
    }
}
