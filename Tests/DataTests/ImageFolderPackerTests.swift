import Data
import Foundation
import HDF5
import Testing

/// `dtrain pack imagefolder`: torchvision's class order, the encoded-image layout, re-encoding of large images,
/// and undecodable files refused or skipped.
@Suite struct ImageFolderPackerTests {
    /// A smooth width x height picture whose colours depend on `tint`.
    static func picture(width: Int, height: Int, tint: Int) -> RGBImage {
        RGBImage(width: width, height: height, pixels: (0..<(width * height)).flatMap { i -> [UInt8] in
            let (x, y) = (i % width, i / width)
            return [UInt8((3 * x + tint) % 256), UInt8((2 * y + 2 * tint) % 256), UInt8((x + y + 3 * tint) % 256)]
        })
    }

    /// Writes a tree: class folders in unsorted creation order, JPEGs and a PNG, a nested folder and a non-image.
    static func writeTree(in folder: TemporaryDirectory) throws -> String {
        let root = folder.file("tree")
        let codec = ImageCodec()
        for (name, files) in [("dog", ["b.jpg", "a.JPEG", "nested/c.jpg"]), ("cat", ["x.png", "y.jpg"])] {
            for (index, file) in files.enumerated() {
                let path = root + "/" + name + "/" + file
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
                let bytes = file.hasSuffix(".png") ? Array(Data(base64Encoded: ImageReferences.rgbaPNGBase64)!)
                    : try codec.encodeJPEG(picture(width: 40 + 8 * index, height: 30, tint: 20 * index))
                FileManager.default.createFile(atPath: path, contents: Data(bytes))
            }
        }
        FileManager.default.createFile(atPath: root + "/cat/notes.txt", contents: Data("not an image".utf8))
        return root
    }

    @Test func classesAndFilesAreListedInTorchvisionsOrder() throws {
        let folder = TemporaryDirectory()
        let tree = try ImageFolder(root: try Self.writeTree(in: folder))
        #expect(tree.classNames == ["cat", "dog"])
        #expect(tree.files.map { ($0.path as NSString).lastPathComponent } == ["x.png", "y.jpg", "a.JPEG", "b.jpg", "c.jpg"])
        #expect(tree.files.map(\.label) == [0, 0, 1, 1, 1])
    }

    @Test func packedFileHoldsTheFilesBytesSizesAndLabels() throws {
        let folder = TemporaryDirectory()
        let root = try Self.writeTree(in: folder)
        let output = folder.file("out/train.h5")
        var packer = ImageFolderPacker(folder: try ImageFolder(root: root), output: output)
        packer.workers = 2
        let summary = try packer.pack()
        #expect(summary.images == 5 && summary.resized == 0 && summary.skipped.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: output + ".tmp"))

        let file = try HDF5File.open(output)
        #expect(try file.attributes.read("version", as: Int.self) == 2)
        #expect(try file.attributes.read("classes", as: [String].self) == ["cat", "dog"])
        let offsets = try file.openDataset("offsets").readAll(as: Int64.self)
        let sizes = try file.openDataset("sizes").readAll(as: Int32.self)
        #expect(try file.openDataset("labels").readAll(as: Int32.self) == [0, 0, 1, 1, 1])
        #expect(sizes == [23, 37, 30, 48, 30, 48, 30, 40, 30, 56])
        let encoded = try file.openDataset("encoded").readAll(as: UInt8.self)
        #expect(offsets.count == 6 && offsets.first == 0 && Int(offsets.last!) == encoded.count)
        let tree = try ImageFolder(root: root)
        for (index, entry) in tree.files.enumerated() {
            let original = Array(FileManager.default.contents(atPath: entry.path)!)
            #expect(Array(encoded[Int(offsets[index])..<Int(offsets[index + 1])]) == original, "\(entry.path)")
        }
        let mean = try file.attributes.read("mean", as: [Double].self)
        let std = try file.attributes.read("std", as: [Double].self)
        #expect(mean.count == 3 && std.count == 3 && mean.allSatisfy { $0 > 0 && $0 < 1 } && std.allSatisfy { $0 > 0 })
    }

    @Test func largeImagesAreResizedToTheShorterSide() throws {
        let folder = TemporaryDirectory()
        var packer = ImageFolderPacker(folder: try ImageFolder(root: try Self.writeTree(in: folder)),
                                       output: folder.file("small.h5"))
        packer.resizeShorter = 24
        let summary = try packer.pack()
        // The PNG (37x23) is already small enough; the 30-row JPEGs get 24 rows and width * 24 / 30 columns.
        #expect(summary.resized == 4)
        let file = try HDF5File.open(folder.file("small.h5"))
        let sizes = try file.openDataset("sizes").readAll(as: Int32.self)
        #expect(sizes == [23, 37, 24, 38, 24, 38, 24, 32, 24, 44], "\(sizes)")
        let offsets = try file.openDataset("offsets").readAll(as: Int64.self)
        let encoded = try file.openDataset("encoded").readAll(as: UInt8.self)
        let image = try Array(encoded[Int(offsets[1])..<Int(offsets[2])]).withUnsafeBytes { try ImageCodec().decode($0) }
        #expect(image.width == 38 && image.height == 24)
    }

    @Test func anUndecodableFileIsNamedOrSkipped() throws {
        let folder = TemporaryDirectory()
        let root = try Self.writeTree(in: folder)
        let broken = root + "/dog/broken.jpg"
        FileManager.default.createFile(atPath: broken, contents: Data([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]))
        let output = folder.file("train.h5")
        let refused = #expect(throws: DataError.self) {
            try ImageFolderPacker(folder: try ImageFolder(root: root), output: output).pack()
        }
        #expect(refused?.description.hasPrefix("\(broken): cannot be decoded: ") == true, "\(String(describing: refused))")
        #expect(!FileManager.default.fileExists(atPath: output) && !FileManager.default.fileExists(atPath: output + ".tmp"))

        var packer = ImageFolderPacker(folder: try ImageFolder(root: root), output: output)
        packer.skipUndecodable = true
        let summary = try packer.pack()
        #expect(summary.images == 5 && summary.skipped.map(\.path) == [broken])
    }

    @Test func aFolderWithoutClassFoldersIsRefused() throws {
        let folder = TemporaryDirectory()
        let error = #expect(throws: DataError.self) { try ImageFolder(root: folder.path) }
        #expect(error?.description.contains("holds no class folders") == true)
    }
}
