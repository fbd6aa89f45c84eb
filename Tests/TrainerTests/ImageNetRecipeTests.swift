import Data
import Foundation
import HDF5
import MPITestSupport
import Testing

/// `datasets/imagenet/prepare.sh` on a miniature ILSVRC-2012: a training folder per synset, the flat validation
/// folder and a devkit whose meta.mat numbers the synsets in another order than their names sort in.
@Suite struct ImageNetRecipeTests {
    /// Synsets in ILSVRC2012_ID order 1, 2, 3 (the names sort as n001, n002, n003: labels 1, 0, 2).
    static let synsets = ["n002", "n001", "n003"]
    static let validationIDs = [1, 2, 3, 1, 2, 3, 2]

    @Test func packsTrainingAndFlatValidationFoldersWithTheDevkitsLabels() throws {
        let scratch = try TrainerRunSupport("imagenet-recipe")
        defer { scratch.remove() }
        let codec = ImageCodec()
        func jpeg(_ path: String, tint: Int) throws {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            var pixels = [UInt8](repeating: 0, count: 3600)
            for i in 0..<1200 {
                pixels[3 * i] = UInt8((i + tint) % 256)
                pixels[3 * i + 1] = UInt8((2 * i + tint) % 256)
                pixels[3 * i + 2] = UInt8(3 * i % 256)
            }
            let image = RGBImage(width: 40, height: 30, pixels: pixels)
            FileManager.default.createFile(atPath: path, contents: Data(try codec.encodeJPEG(image)))
        }
        for (index, synset) in Self.synsets.enumerated() {
            for image in 0..<2 { try jpeg(scratch.path("train/\(synset)/\(synset)_\(image).JPEG"), tint: 40 * index + image) }
        }
        for (index, _) in Self.validationIDs.enumerated() {
            try jpeg(scratch.path(String(format: "val/ILSVRC2012_val_%08d.JPEG", index + 1)), tint: 9 * index)
        }
        try FileManager.default.createDirectory(atPath: scratch.path("devkit/data"), withIntermediateDirectories: true)
        try Self.validationIDs.map(String.init).joined(separator: "\n")
            .write(toFile: scratch.path("devkit/data/ILSVRC2012_validation_ground_truth.txt"), atomically: true,
                   encoding: .utf8)
        try writeMeta(to: scratch.path("devkit/data/meta.mat"))

        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        var environment = ProcessInfo.processInfo.environment
        environment["DTRAIN"] = try MPIRun.product(named: "dtrain")
        environment["OUTPUT"] = scratch.path("out")
        environment["RESIZE"] = "24"
        let recipe = try ChildProcess(executable: "/bin/bash", arguments: [
            root + "/datasets/imagenet/prepare.sh", "--train", scratch.path("train"), "--val", scratch.path("val"),
            "--devkit", scratch.path("devkit"),
        ], environment: environment)
        let result = try recipe.wait(timeout: .seconds(300))
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")

        let train = try HDF5File.open(scratch.path("out/train.h5"))
        #expect(try train.attributes.read("classes", as: [String].self) == ["n001", "n002", "n003"])
        #expect(try train.openDataset("labels").readAll(as: Int32.self) == [0, 0, 1, 1, 2, 2])
        let validation = try HDF5File.open(scratch.path("out/val.h5"))
        #expect(try validation.attributes.read("classes", as: [String].self) == ["n001", "n002", "n003"])
        // ID 1 is n002 (label 1), ID 2 is n001 (label 0), ID 3 is n003 (label 2); within a class, by file name.
        #expect(try validation.openDataset("labels").readAll(as: Int32.self) == [0, 0, 0, 1, 1, 2, 2])
        // Shorter sides of 30 resized to 24: 32x24.
        let sizes = try validation.openDataset("sizes").readAll(as: Int32.self)
        #expect(sizes == [Int32](repeating: 0, count: 14).indices.map { $0 % 2 == 0 ? 24 : 32 }, "\(sizes)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("val/n001")), "the flat folder was changed")
    }

    /// A meta.mat as the devkit's: a synsets struct array whose leaves (num_children 0) are the classes, plus an
    /// inner synset that must be left out. Written by SciPy, which the recipe also reads it with.
    private func writeMeta(to path: String) throws {
        let rows = Self.synsets.enumerated().map { "(\($0.offset + 1), '\($0.element)', 'class', '', 0, np.zeros(0), 0, 2)" }
        let script = """
            import sys
            import numpy as np, scipy.io
            fields = ['ILSVRC2012_ID', 'WNID', 'words', 'gloss', 'num_children', 'children', 'wordnet_height',
                      'num_train_images']
            rows = [\(rows.joined(separator: ", ")), (1001, 'n000', 'root', '', 3, np.array([1, 2, 3]), 1, 0)]
            synsets = np.array(rows, dtype=[(f, 'O') for f in fields]).reshape(-1, 1)
            scipy.io.savemat(sys.argv[1], {'synsets': synsets})
            """
        let python = try ChildProcess(
            executable: try PythonEnvironment.python(named: "scipy", importing: ["scipy.io"], packages: ["scipy"]),
            arguments: ["-c", script, path])
        let result = try python.wait(timeout: .seconds(60))
        try #require(result.status == 0, "writing meta.mat with SciPy: \(result.stderr)")
    }
}
