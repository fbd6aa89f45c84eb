import Foundation
import HDF5
import MPITestSupport
import Testing
import Trainer

/// The `model.h5` a run leaves: it says what it holds (model, config, classes, input shape, normalisation), and
/// `dtrain eval --checkpoint model.h5` evaluates it to the run's own final accuracy.
@Suite struct ModelFileTests {
    @Test func modelFileDescribesItselfAndEvaluatesAsTheRunDid() throws {
        let scratch = try TrainerRunSupport("model-file")
        defer { scratch.remove() }
        let train = try scratch.synthetic("train.h5", count: 512, seed: 1)
        let validation = try scratch.synthetic("val.h5", count: 100, seed: 2)
        let out = scratch.path("run")
        let config = try scratch.config("lenet.toml", scratch.lenetConfig(train: train, validation: validation, steps: 20,
                                                                          out: out))
        let run = try scratch.dtrain([config], ranks: 2)
        #expect(run.status == 0, "\(run.stderr)")

        let file = try HDF5File.open(out + "/model.h5")
        let attributes = try file.attributes
        #expect(try attributes.read("format", as: String.self) == "dtrain-model")
        #expect(try attributes.read("model", as: String.self) == "lenet5")
        #expect(try attributes.read("classes", as: [String].self) == (0..<10).map { "class\($0)" })
        #expect(try attributes.read("input_shape", as: [Int].self) == [1, 28, 28])
        #expect(try attributes.read("mean", as: [Double].self).count == 1)
        #expect(try attributes.read("config", as: String.self).contains("name = \"lenet5\""))

        let evaluation = try scratch.dtrain(["eval", config, "--checkpoint", out + "/model.h5"], ranks: 2)
        #expect(evaluation.status == 0, "\(evaluation.stderr)")
        func top1(_ output: String) -> String? {
            guard let line = output.split(separator: "\n").last(where: { $0.contains("validation:") }).map(String.init),
                  let start = line.range(of: "top-1 ") else { return nil }
            return String(line[start.upperBound...].prefix { $0 != " " })
        }
        #expect(top1(evaluation.stdout) != nil && top1(evaluation.stdout) == top1(run.stdout),
                "run: \(top1(run.stdout) ?? "-"), eval of model.h5: \(top1(evaluation.stdout) ?? "-")")
    }
}
