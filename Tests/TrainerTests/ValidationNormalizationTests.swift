import Data
import Foundation
import HDF5
import MPITestSupport
import Testing
import Trainer

/// A validation split is normalised with the training split's mean and std (datasets/README.md), not its own: a
/// model evaluated on a copy of its training file whose `mean` and `std` attributes say otherwise scores exactly as
/// on the training file itself, for decoded and for encoded images.
@Suite struct ValidationNormalizationTests {
    @Test(arguments: ["decoded", "encoded"])
    func validationIsNormalisedWithTheTrainingSplitsStatistics(layout: String) throws {
        let scratch = try TrainerRunSupport("val-normalization-\(layout)")
        defer { scratch.remove() }
        let train = scratch.path("train.h5"), restated = scratch.path("restated.h5")
        var imageKeys = ""
        if layout == "decoded" {
            _ = try scratch.synthetic("train.h5", count: 64, seed: 1)
        } else {
            try EncodedImageTrainingTests.writeTree(scratch.path("tree"), count: 64, seed: 1)
            _ = try ImageFolderPacker(folder: try ImageFolder(root: scratch.path("tree")), output: train).pack()
            imageKeys = "image_size = 16\nresize = 18"
        }
        try FileManager.default.copyItem(atPath: train, toPath: restated)
        do {
            let file = try HDF5File.open(restated, writable: true)
            let attributes = try file.attributes
            try attributes.set("mean", try attributes.read("mean", as: [Double].self).map { $0 + 0.25 })
            try attributes.set("std", try attributes.read("std", as: [Double].self).map { $0 * 3 })
            try file.close()
        }
        let out = scratch.path("run")
        let config = try scratch.config("mlp.toml", """
            [run]
            seed = 2
            max_steps = 2
            out_dir = "\(out)"
            [data]
            train = "\(train)"
            val = "\(train)"
            global_batch = 16
            \(imageKeys)
            [model]
            name = "mlp"
            hidden = [16]
            [optimizer]
            name = "momentum"
            lr = 0.01
            """)
        let trained = try scratch.dtrain([config], ranks: 1)
        try #require(trained.status == 0, "\(trained.stderr)")
        // The evaluation's loss to the last bit, from the metrics of an evaluation run of its own.
        func validationLoss(_ file: String, _ name: String) throws -> Double {
            let directory = scratch.path("eval-" + name)
            let result = try scratch.dtrain(["eval", config, "--checkpoint", out + "/model.h5", "--set", "data.val=\"\(file)\"",
                                             "--set", "run.out_dir=\"\(directory)\""], ranks: 1)
            try #require(result.status == 0, "\(result.stderr)")
            let metrics = try String(contentsOfFile: directory + "/metrics.jsonl", encoding: .utf8)
            let record = try #require(metrics.split(separator: "\n").last { $0.contains("\"eval\"") })
            return try #require((try JSONSerialization.jsonObject(with: Data(record.utf8)) as? [String: Any])?["loss"] as? Double)
        }
        let own = try validationLoss(train, "own"), other = try validationLoss(restated, "restated")
        print("\(layout) images: validation loss \(own) on the training file, \(other) on a copy with other statistics")
        #expect(own == other)
    }
}
