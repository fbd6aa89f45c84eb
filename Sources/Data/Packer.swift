import Engine
import Foundation

/// Packers turn raw datasets into dataset files in the layout of datasets/README.md.
///
/// Each writes `<output>.tmp` and renames it to `output` only when complete, so an interrupted pack leaves no
/// half-written dataset behind, and records the per-channel mean and standard deviation of the images it packed.
public enum Packer {
    /// Packs an IDX images file ([N, rows, cols] unsigned bytes) and an IDX labels file ([N] unsigned bytes),
    /// each plain or gzip-compressed, into a dataset file of N grey images [1, rows, cols].
    ///
    /// - Parameters:
    ///   - classNames: one name per class; every label must index into them.
    ///   - source: what the files are, recorded in the `source` attribute.
    public static func packIDX(images: String, labels: String, output: String, classNames: [String],
                               source: String) throws(DataError) {
        guard !classNames.isEmpty else {
            throw .invalidArgument(name: "classes", value: "(none)", expected: "at least one class name")
        }
        let labelReader = try IDXReader(path: labels, rank: 1, contents: "labels")
        let count = labelReader.dimensions[0]
        let labelBuffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: count)
        defer { labelBuffer.deallocate() }
        try labelReader.read(into: labelBuffer.baseAddress!, count: count)
        try labelReader.expectEnd()
        let labelBytes = Array(labelBuffer)
        if let index = labelBytes.firstIndex(where: { Int($0) >= classNames.count }) {
            throw .labelOutOfRange(file: labels, index: index, value: Int(labelBytes[index]),
                                   classes: classNames.count, classSource: "the class names given")
        }

        let imageReader = try IDXReader(path: images, rank: 3, contents: "images")
        guard imageReader.dimensions[0] == count else {
            throw .idxCountMismatch(images: images, imageCount: imageReader.dimensions[0], labels: labels,
                                    labelCount: count)
        }
        let sampleShape = [1] + imageReader.dimensions.dropFirst()
        let writer = try DatasetWriter(output: output, count: count, sampleShape: sampleShape)
        let sampleBytes = sampleShape.reduce(1, *)
        let chunk = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: writer.chunkRows * sampleBytes)
        defer { chunk.deallocate() }
        var row = 0
        while row < count {
            let rows = min(writer.chunkRows, count - row)
            try imageReader.read(into: chunk.baseAddress!, count: rows * sampleBytes)
            try writer.append(UnsafeBufferPointer(chunk), rows: rows)
            row += rows
        }
        try imageReader.expectEnd()
        try writer.finish(labels: labelBytes.map { Int32($0) }, classNames: classNames, source: source)
    }

    /// Packs `count` synthetic images of `shape` [C, H, W] in `classes` classes, drawn deterministically from
    /// `seed`: the same arguments give the same file, byte for byte.
    ///
    /// Each class has its own per-channel brightness and a two-dimensional wave pattern; every image is its
    /// class's picture plus independent noise, so a model can learn the classes but not trivially. Images are
    /// generated one chunk at a time, so ImageNet-sized files need little memory.
    public static func packSynthetic(output: String, count: Int, shape: [Int], classes: Int,
                                     seed: UInt64) throws(DataError) {
        guard count >= 1 else {
            throw .invalidArgument(name: "count", value: "\(count)", expected: "at least 1")
        }
        guard shape.count == 3, shape.allSatisfy({ $0 >= 1 }) else {
            throw .invalidArgument(name: "shape", value: shape.map(String.init).joined(separator: ","),
                                   expected: "C,H,W with every extent at least 1")
        }
        guard classes >= 1, classes <= Int(Int32.max) else {
            throw .invalidArgument(name: "classes", value: "\(classes)", expected: "at least 1")
        }
        let images = SyntheticImages(shape: shape, classes: classes, seed: seed)
        let labels = (0..<count).map { images.label(of: $0) }
        let writer = try DatasetWriter(output: output, count: count, sampleShape: shape)
        let sampleBytes = shape.reduce(1, *)
        let chunk = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: writer.chunkRows * sampleBytes)
        defer { chunk.deallocate() }
        var row = 0
        while row < count {
            let rows = min(writer.chunkRows, count - row)
            for offset in 0..<rows {
                images.draw(index: row + offset, label: labels[row + offset],
                            into: chunk.baseAddress! + offset * sampleBytes)
            }
            try writer.append(UnsafeBufferPointer(chunk), rows: rows)
            row += rows
        }
        let names = (0..<classes).map { "class\($0)" }
        let source = "synthetic: seed \(seed), \(classes) classes, \(shape.map(String.init).joined(separator: "x"))"
        try writer.finish(labels: labels, classNames: names, source: source)
    }
}
