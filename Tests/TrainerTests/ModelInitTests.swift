import Data
import Foundation
import MPITestSupport
import Testing
import Trainer

/// `model.init`: a run starts from a model file's tensors; a classifier of another size starts afresh and the log
/// says so; a file of another architecture is refused with one line.
@Suite struct ModelInitTests {
    @Test func runStartsFromAModelFile() throws {
        let scratch = try TrainerRunSupport("model-init")
        defer { scratch.remove() }
        let train = try scratch.synthetic("train.h5", count: 256, seed: 1)
        let first = scratch.path("first")
        let config = try scratch.config("lenet.toml", scratch.lenetConfig(train: train, validation: train, steps: 20, out: first))
        try #require(try scratch.dtrain([config], ranks: 2).status == 0)
        let trained = try ModelFile.readParameters(from: first + "/model.h5")

        // One step at a vanishing learning rate keeps every parameter as the file has it.
        let same = scratch.path("same")
        let continued = try scratch.dtrain([config, "--set", "model.init=\"\(first)/model.h5\"", "--set", "run.out_dir=\"\(same)\"",
                                            "--set", "run.max_steps=1", "--set", "optimizer.lr=1e-30"], ranks: 2)
        #expect(continued.status == 0, "\(continued.stderr)")
        #expect(continued.stdout.contains("model.init: parameters and buffers from \(first)/model.h5\n"), "\(continued.stdout)")
        #expect(try ModelFile.readParameters(from: same + "/model.h5") == trained)

        // Five classes: the classifier fc2 is initialised afresh, the rest comes from the file.
        let fiveClasses = scratch.path("five.h5")
        try Packer.packSynthetic(output: fiveClasses, count: 64, shape: [1, 28, 28], classes: 5, seed: 4)
        let other = scratch.path("other")
        let fineTuned = try scratch.dtrain([config, "--set", "model.init=\"\(first)/model.h5\"", "--set", "run.out_dir=\"\(other)\"",
                                            "--set", "data.train=\"\(fiveClasses)\"", "--set", "data.val=\"\(fiveClasses)\"",
                                            "--set", "run.max_steps=1", "--set", "optimizer.lr=1e-30"], ranks: 1)
        #expect(fineTuned.status == 0, "\(fineTuned.stderr)")
        #expect(fineTuned.stdout.contains("fc2.weight, fc2.bias initialised afresh"), "\(fineTuned.stdout)")
        let tuned = try ModelFile.readParameters(from: other + "/model.h5")
        #expect(tuned["conv1.weight"] == trained["conv1.weight"] && tuned["fc2.bias"]?.count == 5)

        let mlp = try scratch.dtrain([config, "--set", "model.init=\"\(first)/model.h5\"", "--set", "run.out_dir=\"\(scratch.path("mlp"))\"",
                                      "--set", "model.name=\"mlp\"", "--set", "model.activation=\"relu\""], ranks: 1)
        #expect(mlp.status == 2)
        #expect(mlp.stderr.contains("dtrain: model.init = \"\(first)/model.h5\" does not fit model mlp"), "\(mlp.stderr)")
    }
}
