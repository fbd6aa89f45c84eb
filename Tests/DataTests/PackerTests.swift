import Data
import Foundation
import Testing

/// The IDX packer reads plain and gzip files exactly and rejects malformed ones; the synthetic packer is
/// deterministic and learnable.
@Suite struct PackerTests {
    /// Five 3x4 images and their labels, as a test's IDX input.
    static let pixels: [UInt8] = (0..<60).map { UInt8(($0 * 37 + 11) % 256) }
    static let labels: [UInt8] = [3, 0, 1, 3, 2]
    static let classNames = ["zero", "one", "two", "three"]

    /// Writes the IDX pair into `folder` and returns the image and label paths.
    func writeIDX(in folder: TemporaryDirectory, compressed: Bool, images: [UInt8]? = nil,
                  labels: [UInt8]? = nil) throws -> (images: String, labels: String) {
        let suffix = compressed ? ".gz" : ""
        let paths = (folder.file("images-idx3-ubyte" + suffix), folder.file("labels-idx1-ubyte" + suffix))
        try IDXFixture.write(images ?? IDXFixture.bytes(magic: 0x803, dimensions: [5, 3, 4], data: Self.pixels),
                             to: paths.0, compressed: compressed)
        try IDXFixture.write(labels ?? IDXFixture.bytes(magic: 0x801, dimensions: [5], data: Self.labels),
                             to: paths.1, compressed: compressed)
        return paths
    }

    @Test(arguments: [false, true]) func idxFilesPackExactly(compressed: Bool) throws {
        let folder = TemporaryDirectory()
        let input = try writeIDX(in: folder, compressed: compressed)
        let output = folder.file("out/train.h5")
        try Packer.packIDX(images: input.images, labels: input.labels, output: output, classNames: Self.classNames,
                           source: "test IDX files")
        #expect(!FileManager.default.fileExists(atPath: output + ".tmp"))
        let dataset = try DatasetFile(path: output)
        #expect(dataset.count == 5)
        #expect(dataset.sampleShape == [1, 3, 4])
        #expect(dataset.labels == Self.labels.map { Int32($0) })
        #expect(dataset.classNames == Self.classNames)
        #expect(dataset.source == "test IDX files")
        #expect(dataset.chunkRows == 5)
        var pixels = [UInt8](repeating: 0, count: 60)
        try pixels.withUnsafeMutableBufferPointer { try dataset.readImages(rows: 0..<5, into: $0.baseAddress!) }
        #expect(pixels == Self.pixels)

        let scaled = Self.pixels.map { Double($0) / 255 }
        let mean = scaled.reduce(0, +) / 60
        let std = (scaled.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 60).squareRoot()
        #expect(abs(dataset.mean[0] - mean) < 1e-12)
        #expect(abs(dataset.std[0] - std) < 1e-12)
    }

    /// Packs `input` and returns the error line with the folder replaced by "DIR".
    func failure(in folder: TemporaryDirectory, _ input: (images: String, labels: String),
                 classNames: [String] = classNames) -> String {
        let output = folder.file("out.h5")
        let error = #expect(throws: DataError.self) {
            try Packer.packIDX(images: input.images, labels: input.labels, output: output, classNames: classNames,
                               source: "test")
        }
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(!FileManager.default.fileExists(atPath: output + ".tmp"))
        return error?.description.replacingOccurrences(of: folder.path, with: "DIR") ?? "no error"
    }

    @Test func badMagicNumbersAreNamed() throws {
        let folder = TemporaryDirectory()
        let swapped = try writeIDX(in: folder, compressed: false,
                                   images: IDXFixture.bytes(magic: 0x801, dimensions: [5], data: Self.labels),
                                   labels: IDXFixture.bytes(magic: 0x801, dimensions: [5], data: Self.labels))
        #expect(failure(in: folder, swapped) == "DIR/images-idx3-ubyte: magic number 0x00000801 is not 0x00000803 "
                + "(IDX images: unsigned bytes in 3 dimensions)")
        let text = try writeIDX(in: folder, compressed: true, labels: Array("0,1,2\n".utf8))
        #expect(failure(in: folder, text) == "DIR/labels-idx1-ubyte.gz: magic number 0x302c312c is not 0x00000801 "
                + "(IDX labels: unsigned bytes in 1 dimension)")
        let tiny = try writeIDX(in: folder, compressed: false, labels: Array("0\n".utf8))
        #expect(failure(in: folder, tiny)
                == "DIR/labels-idx1-ubyte: file ends inside the magic number (not an IDX file)")
    }

    @Test func truncatedAndOverlongFilesAreNamed() throws {
        let folder = TemporaryDirectory()
        let short = try writeIDX(in: folder, compressed: true,
                                 images: IDXFixture.bytes(magic: 0x803, dimensions: [5, 3, 4],
                                                          data: Array(Self.pixels[0..<50])))
        #expect(failure(in: folder, short) == "DIR/images-idx3-ubyte.gz: file is truncated: the header [5, 3, 4] "
                + "promises 60 data bytes, the file ends 10 bytes early")
        let long = try writeIDX(in: folder, compressed: false,
                                labels: IDXFixture.bytes(magic: 0x801, dimensions: [4], data: Self.labels))
        #expect(failure(in: folder, long) == "DIR/labels-idx1-ubyte: 1 bytes follow the 4 data bytes that the header "
                + "[4] declares")
        let damaged = folder.file("damaged.gz")
        let gzip = try Data(contentsOf: URL(fileURLWithPath: short.images))
        try gzip.prefix(gzip.count - 12).write(to: URL(fileURLWithPath: damaged))
        let cut = try writeIDX(in: folder, compressed: false)
        #expect(failure(in: folder, (damaged, cut.labels)).hasPrefix("DIR/damaged.gz: "))
    }

    @Test func countsAndLabelsAreChecked() throws {
        let folder = TemporaryDirectory()
        let fewer = try writeIDX(in: folder, compressed: false,
                                 labels: IDXFixture.bytes(magic: 0x801, dimensions: [4], data: [0, 1, 2, 3]))
        #expect(failure(in: folder, fewer) == "DIR/images-idx3-ubyte holds 5 images but DIR/labels-idx1-ubyte "
                + "holds 4 labels, expected equal counts")
        let input = try writeIDX(in: folder, compressed: false)
        #expect(failure(in: folder, input, classNames: ["a", "b", "c"])
                == "DIR/labels-idx1-ubyte: labels[0] = 3 is outside 0..<3 (3 classes in the class names given)")
        #expect(failure(in: folder, (folder.file("nothing"), input.labels)) == "DIR/nothing: no such file")
    }

    @Test func realFashionMNISTParses() throws {
        let folder = "/usr/share/datasets/fashion-mnist"
        guard FileManager.default.fileExists(atPath: folder + "/t10k-images-idx3-ubyte.gz") else {
            print("skipped: \(folder) is absent (Debian package dataset-fashion-mnist)")
            return
        }
        let output = TemporaryDirectory()
        let names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                     "Ankle boot"]
        try Packer.packIDX(images: folder + "/t10k-images-idx3-ubyte.gz", labels: folder + "/t10k-labels-idx1-ubyte.gz",
                           output: output.file("test.h5"), classNames: names, source: "Fashion-MNIST test")
        let dataset = try DatasetFile(path: output.file("test.h5"))
        #expect(dataset.count == 10_000)
        #expect(dataset.sampleShape == [1, 28, 28])
        #expect(dataset.chunkRows == 256)
        // The test split is balanced: 1,000 images of each class.
        #expect(Dictionary(grouping: dataset.labels, by: { $0 }).mapValues(\.count) == Dictionary(
            uniqueKeysWithValues: (0..<10).map { (Int32($0), 1000) }))
        #expect(abs(dataset.mean[0] - 0.286) < 0.005)
        #expect(abs(dataset.std[0] - 0.353) < 0.005)
    }

    @Test func syntheticPackIsDeterministicAndShaped() throws {
        let folder = TemporaryDirectory()
        let (first, again, other) = (folder.file("a.h5"), folder.file("b.h5"), folder.file("c.h5"))
        try Packer.packSynthetic(output: first, count: 40, shape: [3, 8, 5], classes: 4, seed: 7)
        try Packer.packSynthetic(output: again, count: 40, shape: [3, 8, 5], classes: 4, seed: 7)
        try Packer.packSynthetic(output: other, count: 40, shape: [3, 8, 5], classes: 4, seed: 8)
        let bytes = try [first, again, other].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        #expect(bytes[0] == bytes[1])
        #expect(bytes[0] != bytes[2])
        let dataset = try DatasetFile(path: first)
        #expect(dataset.count == 40)
        #expect(dataset.sampleShape == [3, 8, 5])
        #expect(dataset.classNames == ["class0", "class1", "class2", "class3"])
        #expect(dataset.labels.allSatisfy { (0..<4).contains($0) })
        #expect(Set(dataset.labels).count == 4)
        #expect(dataset.source == "synthetic: seed 7, 4 classes, 3x8x5")
        #expect(dataset.mean.count == 3 && dataset.std.allSatisfy { $0 > 0.05 })
    }

    @Test func syntheticClassesAreLearnableAcrossSeeds() throws {
        // Class means from one seed's file classify another seed's file far better than chance (1 in 5).
        let folder = TemporaryDirectory()
        let (train, test) = (folder.file("train.h5"), folder.file("test.h5"))
        try Packer.packSynthetic(output: train, count: 200, shape: [2, 6, 6], classes: 5, seed: 1)
        try Packer.packSynthetic(output: test, count: 100, shape: [2, 6, 6], classes: 5, seed: 2)
        func load(_ path: String) throws -> (DatasetFile, [Double]) {
            let dataset = try DatasetFile(path: path)
            var pixels = [UInt8](repeating: 0, count: dataset.count * dataset.sampleBytes)
            try pixels.withUnsafeMutableBufferPointer {
                try dataset.readImages(rows: 0..<dataset.count, into: $0.baseAddress!)
            }
            return (dataset, pixels.map { Double($0) })
        }
        let (trainSet, trainPixels) = try load(train)
        let (testSet, testPixels) = try load(test)
        let size = trainSet.sampleBytes
        var means = [[Double]](repeating: [Double](repeating: 0, count: size), count: 5)
        var counts = [Double](repeating: 0, count: 5)
        for (index, label) in trainSet.labels.enumerated() {
            counts[Int(label)] += 1
            for i in 0..<size { means[Int(label)][i] += trainPixels[index * size + i] }
        }
        means = means.enumerated().map { label, sum in sum.map { $0 / counts[label] } }
        var correct = 0
        for (index, label) in testSet.labels.enumerated() {
            let distances = means.map { mean in (0..<size).map { pow(testPixels[index * size + $0] - mean[$0], 2) }
                .reduce(0, +) }
            if distances.firstIndex(of: distances.min()!) == Int(label) { correct += 1 }
        }
        #expect(correct >= 60, "nearest class mean got \(correct) of 100 right")
    }

    @Test func syntheticArgumentsAreChecked() throws {
        let folder = TemporaryDirectory()
        let error = #expect(throws: DataError.self) {
            try Packer.packSynthetic(output: folder.file("x.h5"), count: 4, shape: [3, 0, 5], classes: 2, seed: 1)
        }
        #expect(error?.description == "shape 3,0,5: expected C,H,W with every extent at least 1")
    }
}
