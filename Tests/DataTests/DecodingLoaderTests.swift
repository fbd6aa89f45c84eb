import Data
import Engine
import Foundation
import Testing

/// Batches of encoded images: the evaluation transform is the centre crop of the image, the training transform
/// a pure function of (seed, epoch, index), and the CIFAR crop-and-flip of decoded images likewise.
@Suite struct DecodingLoaderTests {
    /// A packed tree of five images (one 37x23 PNG, JPEGs of 30 rows and 40-56 columns).
    static func packed(in folder: TemporaryDirectory) throws -> EncodedImageFile {
        let output = folder.file("images.h5")
        _ = try ImageFolderPacker(folder: try ImageFolder(root: try ImageFolderPackerTests.writeTree(in: folder)),
                                  output: output).pack()
        return try EncodedImageFile(path: output)
    }

    static func loader(_ file: EncodedImageFile, size: Int, resize: Int, training: Bool) throws -> DecodingLoader {
        let evaluation = ImageTransform(kind: .resizeCenterCrop(resize: resize), size: size, seed: 7, mean: file.mean,
                                        std: file.std)
        let train = training ? ImageTransform(kind: .randomResizedCrop, size: size, seed: 7, mean: file.mean, std: file.std) : nil
        return try DecodingLoader(file: file, training: train, evaluation: evaluation, workers: 2, cacheBytes: 1 << 20)
    }

    @Test func evaluationIsTheNormalisedCentreCrop() throws {
        let folder = TemporaryDirectory()
        let file = try Self.packed(in: folder)
        // resize = the shorter side (23 and 30) would keep the decode full size; 20 of a 30-row JPEG is a resize.
        let loader = try Self.loader(file, size: 20, resize: 23, training: false)
        let batch = try loader.load(rows: 0..<file.count)
        #expect(batch.images.shape == [5, 3, 20, 20])
        #expect(batch.labels == [0, 0, 1, 1, 1])
        // The PNG (37x23): resize 23 keeps it, the centre 20x20 starts at row 2 (round(1.5) = 2), column 8.
        let png = try file.bytes(of: 0).withUnsafeBytes { try ImageCodec().decode($0) }
        for c in 0..<3 {
            for (y, x) in [(0, 0), (7, 13), (19, 19)] {
                let pixel = Float(png.pixels[((2 + y) * 37 + 8 + x) * 3 + c])
                let expected = (pixel / 255 - Float(file.mean[c])) / Float(file.std[c])
                let actual = batch.images.pointer[(c * 20 + y) * 20 + x]
                #expect(abs(actual - expected) <= 1e-5 * max(1, abs(expected)), "channel \(c) at (\(y), \(x))")
            }
        }
    }

    /// A tree of grey JPEGs (Fashion-MNIST's kind) packs with one channel and loads as [N, 1, H, W], the decoded
    /// image's grey value normalised; the colour tree above keeps three channels.
    @Test func greyImagesLoadAsOneChannel() throws {
        let folder = TemporaryDirectory()
        let grey = Array(Data(base64Encoded: ImageReferences.greyJPEGBase64)!)
        for name in ["a/1.jpg", "a/2.jpg", "b/3.jpg"] {
            let path = folder.file("grey/" + name)
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: path, contents: Data(grey))
        }
        let output = folder.file("grey.h5")
        _ = try ImageFolderPacker(folder: try ImageFolder(root: folder.file("grey")), output: output).pack()
        let file = try EncodedImageFile(path: output)
        #expect(file.mean.count == 1 && file.std.count == 1)
        // The 37x23 image with resize 23 and size 20: the centre square starts at row 2, column 8.
        let batch = try Self.loader(file, size: 20, resize: 23, training: false).load(rows: 0..<3)
        #expect(batch.images.shape == [3, 1, 20, 20])
        let decoded = try grey.withUnsafeBytes { try ImageCodec().decode($0) }
        for (y, x) in [(0, 0), (7, 13), (19, 19)] {
            let pixel = Float(decoded.pixels[((2 + y) * 37 + 8 + x) * 3])
            let expected = (pixel / 255 - Float(file.mean[0])) / Float(file.std[0])
            #expect(abs(batch.images.pointer[y * 20 + x] - expected) <= 1e-5 * max(1, abs(expected)), "(\(y), \(x))")
        }
        #expect(try Self.packed(in: folder).mean.count == 3)
    }

    @Test func trainingCropsDependOnlyOnSeedEpochAndIndex() throws {
        let folder = TemporaryDirectory()
        let file = try Self.packed(in: folder)
        let loader = try Self.loader(file, size: 16, resize: 18, training: true)
        let first = try loader.load([4, 1, 3], epoch: 2).images.scalars
        // The same samples in another order and batch give the same images.
        let again = try loader.load([3, 4], epoch: 2).images.scalars
        let count = 3 * 16 * 16
        #expect(Array(again[count..<(2 * count)]) == Array(first[0..<count]))
        #expect(Array(again[0..<count]) == Array(first[(2 * count)..<(3 * count)]))
        #expect(try loader.load([4, 1, 3], epoch: 3).images.scalars != first)
        #expect(first.allSatisfy { $0.isFinite })
    }

    @Test func decodedImagesGetCIFARCropAndFlip() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("synthetic.h5")
        try Packer.packSynthetic(output: path, count: 8, shape: [3, 8, 8], classes: 2, seed: 1)
        let dataset = try DatasetFile(path: path)
        let plain = try BatchLoader(dataset: dataset, cacheBytes: 1 << 20)
        let augmented = try BatchLoader(dataset: dataset, cacheBytes: 1 << 20, cropPadding: 2, seed: 5)
        let stored = try plain.load(Array(0..<8), epoch: 0).images.scalars
        let epoch0 = try augmented.load(Array(0..<8), epoch: 0).images.scalars
        #expect(epoch0 != stored)
        #expect(try augmented.load(Array(0..<8), epoch: 0).images.scalars == epoch0)
        #expect(try augmented.load(Array(0..<8), epoch: 1).images.scalars != epoch0)
        // Evaluation batches are never augmented.
        #expect(try augmented.load(rows: 0..<8).images.scalars == stored)
        // Every pixel of an augmented image is a pixel of the stored image or the padding's black.
        let black = Set((0..<3).map { Float(-dataset.mean[$0] / dataset.std[$0]) })
        let storedValues = Set(stored)
        #expect(epoch0.allSatisfy { storedValues.contains($0) || black.contains($0) })
    }
}
