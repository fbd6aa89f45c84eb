import Engine
import Foundation
import HDF5
import MPITestSupport
import NN
import Testing
import Trainer

/// A small convolutional network with batch norm, so that checkpoints hold parameters, buffers and a scalar buffer.
func checkpointTestModel(channels: Int = 4, seed: UInt64 = 3) throws -> Model {
    let graph = Graph()
    var x = graph.add("conv", Conv2D(1, channels, kernel: 3, padding: 1), graph.input)
    x = graph.add("bn", BatchNorm(channels), x)
    x = graph.add("relu", Activation(.relu), x)
    x = graph.add("pool", GlobalAvgPool2D(), x)
    graph.add("fc", Dense(channels, 3), x)
    return try Model(graph: graph, inputShape: [1, 6, 6], seed: seed)
}

/// The model after one training step with SGD momentum: parameters moved, batch-norm statistics updated.
func trainedCheckpointTestModel() throws -> (Model, SGD) {
    let model = try checkpointTestModel()
    let input = Tensor(shape: [2, 1, 6, 6], values: (0..<72).map { Float($0 % 7) / 7 - 0.3 })
    let output = model.forward(input, context: .training(batchSize: 2))
    model.zeroGradients()
    model.backward(Tensor(shape: output.shape, values: (0..<output.count).map { Float($0) / 10 - 0.2 }))
    let optimizer = SGD.withMomentum(segments: model.parameterSegments)
    optimizer.step(parameters: model.parameters, gradients: model.gradients, learningRate: 0.1)
    return (model, optimizer)
}

func checkpointTestState(step: Int) -> CheckpointState {
    CheckpointState(step: step, epoch: 3, stepInEpoch: 17, seed: UInt64.max - 5, worldSize: 4, globalBatch: 256,
                    configText: "[run]\nseed = 1\n", metrics: ["loss": 0.125, "accuracy": 0.75])
}

func temporaryCheckpointDirectory(_ name: String) -> String {
    NSTemporaryDirectory() + "dtrain-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
}

/// Bit patterns, so that equality means bitwise equality (and NaN equals NaN).
private func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

@Suite struct CheckpointTests {
    @Test func roundTripRestoresEverythingBitwise() throws {
        let (model, optimizer) = try trainedCheckpointTestModel()
        let directory = temporaryCheckpointDirectory("roundtrip")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = checkpointTestState(step: 1)
        let written = try CheckpointFile.write(model: model, optimizer: optimizer.state, state: state,
                                               directory: directory, keep: 3)
        #expect(written.path == directory + "/ckpt-1.h5")
        #expect(written.bytes > model.parameterCount * 8)

        let checkpoint = try CheckpointFile.read(written.path)
        #expect(checkpoint.state == state)
        #expect(checkpoint.parameterShapes["conv.weight"] == [4, 1, 3, 3])
        #expect(checkpoint.parameterShapes.count == model.parameterSegments.count)
        let fresh = try checkpointTestModel(seed: 99)
        #expect(bits(fresh.parameters.scalars) != bits(model.parameters.scalars))
        try checkpoint.restore(into: fresh)
        #expect(bits(fresh.parameters.scalars) == bits(model.parameters.scalars))
        #expect(bits(fresh.buffers.scalars) == bits(model.buffers.scalars))
        #expect(fresh.buffer(named: "bn.num_batches_tracked")?.scalars == [1])

        let freshOptimizer = SGD.withMomentum(segments: fresh.parameterSegments)
        try freshOptimizer.restore(checkpoint.optimizer)
        #expect(freshOptimizer.state.step == 1)
        #expect(freshOptimizer.state.buffers.keys.sorted() == ["momentum_buffer"])
        #expect(bits(freshOptimizer.state.buffers["momentum_buffer"]!)
                    == bits(optimizer.state.buffers["momentum_buffer"]!))

        var quiet = state
        quiet.step = 2
        quiet.metrics = [:]
        let second = try CheckpointFile.write(model: model, optimizer: OptimizerState(step: 0, buffers: [:]),
                                              state: quiet, directory: directory, keep: 3)
        let plain = try CheckpointFile.read(second.path)
        #expect(plain.state == quiet)
        #expect(plain.optimizer == OptimizerState(step: 0, buffers: [:]))
    }

    @Test func keepsTheNewestAndPointsLatestAtIt() throws {
        let (model, optimizer) = try trainedCheckpointTestModel()
        let directory = temporaryCheckpointDirectory("keep")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for step in [100, 200, 300, 400, 500] {
            _ = try CheckpointFile.write(model: model, optimizer: optimizer.state, state: checkpointTestState(step: step),
                                         directory: directory, keep: 2)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(names == ["ckpt-400.h5", "ckpt-500.h5", "latest"])
        #expect(try String(contentsOfFile: directory + "/latest", encoding: .utf8) == "ckpt-500.h5\n")
        var reports: [String] = []
        #expect(CheckpointFile.newestValid(in: directory) { reports.append($0) }?.state.step == 500)
        #expect(reports.isEmpty)
    }

    @Test func resumingFromAnEarlierCheckpointDeletesTheAbandonedLaterOnes() throws {
        let (model, optimizer) = try trainedCheckpointTestModel()
        let directory = temporaryCheckpointDirectory("abandoned")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for step in [100, 200, 300, 150] {
            _ = try CheckpointFile.write(model: model, optimizer: optimizer.state, state: checkpointTestState(step: step),
                                         directory: directory, keep: 5)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(names == ["ckpt-100.h5", "ckpt-150.h5", "latest"])
    }

    @Test func damagedFilesAreRejectedAndSkipped() throws {
        let (model, optimizer) = try trainedCheckpointTestModel()
        let directory = temporaryCheckpointDirectory("damage")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for step in [100, 200] {
            _ = try CheckpointFile.write(model: model, optimizer: optimizer.state, state: checkpointTestState(step: step),
                                         directory: directory, keep: 5)
        }
        let path = directory + "/ckpt-200.h5"
        let good = try Data(contentsOf: URL(fileURLWithPath: path))

        var damaged: [(String, Data)] = []
        for size in [0, 8, 700, good.count / 3, good.count / 2, good.count - 4096, good.count - 1] {
            damaged.append(("truncated to \(size) bytes", good.prefix(size)))
        }
        let tensors: [(String, [Float])] = [
            ("parameters/fc.weight", model.parameter(named: "fc.weight")!.scalars),
            ("parameters/conv.weight", model.parameter(named: "conv.weight")!.scalars),
            ("buffers/bn.running_var", model.buffer(named: "bn.running_var")!.scalars),
            ("optimizer/momentum_buffer", optimizer.state.buffers["momentum_buffer"]!),
        ]
        for (name, values) in tensors {
            let start = try #require(good.range(of: Data(values.prefix(4).flatMap(\.bitPattern.littleEndianBytes))),
                                     "\(name)'s data not found in the file")
            let length = values.count * 4
            for offset in [0, 5, length / 2, length - 1] {
                var copy = good
                copy[start.lowerBound + offset] ^= 0x10
                damaged.append(("\(name) byte \(offset) flipped", copy))
            }
        }

        for (what, bytes) in damaged {
            try bytes.write(to: URL(fileURLWithPath: path))
            #expect(throws: CheckpointError.self, "\(what)") { try CheckpointFile.read(path) }
            do {
                _ = try CheckpointFile.read(path)
            } catch {
                #expect(error.file == path, "\(what): \(error)")
                #expect(error.description.hasPrefix(path + ": "), "\(what): \(error)")
            }
            var reports: [String] = []
            let found = CheckpointFile.newestValid(in: directory) { reports.append($0) }
            #expect(found?.state.step == 100, "\(what)")
            #expect(reports.count == 1 && reports[0].hasPrefix("ckpt-200.h5 is damaged ("), "\(what): \(reports)")
        }

        try good.write(to: URL(fileURLWithPath: path))
        let flipped = try #require(good.range(of: Data(tensors[0].1.prefix(4).flatMap(\.bitPattern.littleEndianBytes))))
        var copy = good
        copy[flipped.lowerBound] ^= 0x10
        try copy.write(to: URL(fileURLWithPath: path))
        do {
            _ = try CheckpointFile.read(path)
            Issue.record("a flipped byte in parameters/fc.weight was not detected")
        } catch {
            #expect(error.description == "\(path): checksum of parameters/fc.weight does not match")
        }
    }

    @Test func ownChecksumCatchesWhatFletcherCannot() throws {
        let (model, optimizer) = try trainedCheckpointTestModel()
        let directory = temporaryCheckpointDirectory("checksum")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = try CheckpointFile.write(model: model, optimizer: optimizer.state,
                                            state: checkpointTestState(step: 7), directory: directory, keep: 1).path
        let good = try Data(contentsOf: URL(fileURLWithPath: path))

        // A dataset rewritten through HDF5 carries fresh, valid Fletcher-32 sums.
        do {
            let file = try HDF5File.open(path, writable: true)
            let dataset = try file.openDataset("parameters/fc.bias")
            try dataset.writeAll([Float](repeating: 0.5, count: dataset.shape[0]))
            try file.close()
        }
        #expect {
            try CheckpointFile.read(path)
        } throws: { error in
            guard case .checksumMismatch(let file, _, _)? = error as? CheckpointError else { return false }
            return file == path
        }

        // So does an attribute changed behind dtrain's back: the step would resume at the wrong place.
        try good.write(to: URL(fileURLWithPath: path))
        do {
            let file = try HDF5File.open(path, writable: true)
            try file.attributes.set("step", 8)
            try file.close()
        }
        #expect(throws: CheckpointError.self) { try CheckpointFile.read(path) }
    }

    @Test func latestNamingAMissingFileFallsBackToTheNewestOnDisk() throws {
        let (model, optimizer) = try trainedCheckpointTestModel()
        let directory = temporaryCheckpointDirectory("latest")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for step in [10, 20] {
            _ = try CheckpointFile.write(model: model, optimizer: optimizer.state, state: checkpointTestState(step: step),
                                         directory: directory, keep: 5)
        }
        try "ckpt-999.h5\n".write(toFile: directory + "/latest", atomically: false, encoding: .utf8)
        try Data("partial".utf8).write(to: URL(fileURLWithPath: directory + "/ckpt-30.h5.tmp"))
        var reports: [String] = []
        #expect(CheckpointFile.newestValid(in: directory) { reports.append($0) }?.state.step == 20)
        #expect(reports == ["latest names ckpt-999.h5, which does not exist; using an earlier checkpoint"])

        try "../elsewhere.h5\n".write(toFile: directory + "/latest", atomically: false, encoding: .utf8)
        reports = []
        #expect(CheckpointFile.newestValid(in: directory) { reports.append($0) }?.state.step == 20)
        #expect(reports.count == 1)

        let empty = temporaryCheckpointDirectory("empty")
        #expect(CheckpointFile.newestValid(in: empty) { reports.append($0) } == nil)
        #expect(throws: CheckpointError.notFound(file: empty + "/ckpt-1.h5")) {
            try CheckpointFile.read(empty + "/ckpt-1.h5")
        }
    }

    @Test func restoringIntoAModelOfAnotherShapeNamesTheTensor() throws {
        let (model, optimizer) = try trainedCheckpointTestModel()
        let directory = temporaryCheckpointDirectory("shape")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = try CheckpointFile.write(model: model, optimizer: optimizer.state,
                                            state: checkpointTestState(step: 400), directory: directory, keep: 1).path
        let checkpoint = try CheckpointFile.read(path)
        let wider = try checkpointTestModel(channels: 8)
        let before = wider.parameters.scalars
        #expect(throws: CheckpointError.shapeMismatch(file: path, name: "conv.weight", checkpoint: [4, 1, 3, 3],
                                                      model: [8, 1, 3, 3])) {
            try checkpoint.restore(into: wider)
        }
        #expect(wider.parameters.scalars == before)
        let error = CheckpointError.shapeMismatch(file: path, name: "conv.weight", checkpoint: [4, 1, 3, 3],
                                                  model: [8, 1, 3, 3])
        #expect(error.description == "conv.weight is [4, 1, 3, 3] in ckpt-400.h5 but [8, 1, 3, 3] in the model")

        let lenet = try Model(graph: ModelZoo.lenet5(), inputShape: [1, 32, 32], seed: 1)
        #expect(throws: CheckpointError.missingTensor(file: path, kind: "parameter", name: "conv1.weight")) {
            try checkpoint.restore(into: lenet)
        }
    }

    @Test func inspectPrintsAGoodCheckpointAndRejectsADamagedOne() throws {
        let (model, optimizer) = try trainedCheckpointTestModel()
        let directory = temporaryCheckpointDirectory("inspect")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = try CheckpointFile.write(model: model, optimizer: optimizer.state,
                                            state: checkpointTestState(step: 42), directory: directory, keep: 1).path
        let dtrain = try MPIRun.product(named: "dtrain")

        let good = try ChildProcess(executable: dtrain, arguments: ["inspect", path]).wait()
        #expect(good.status == 0, "\(good.stderr)")
        for line in ["path: \(path)", "valid: yes", "step: 42", "epoch: 3", "step in epoch: 17", "world size: 4",
                     "global batch: 256", "seed: \(UInt64.max - 5)",
                     "parameters: \(model.parameterCount) in 6 tensors", "buffers: 9 in 3 tensors",
                     "optimizer: step 1, buffers momentum_buffer", "metrics: accuracy 0.75, loss 0.125",
                     "[run]", "seed = 1"] {
            #expect(good.stdout.contains(line + "\n"), "missing \(line) in:\n\(good.stdout)")
        }

        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
        let damaged = try ChildProcess(executable: dtrain, arguments: ["inspect", path]).wait()
        #expect(damaged.status == 2)
        #expect(damaged.stdout.contains("valid: no ("), "\(damaged.stdout)")
        #expect(damaged.stderr.hasPrefix("dtrain: \(path): ") && damaged.stderr.filter { $0 == "\n" }.count == 1,
                "\(damaged.stderr)")
    }
}

extension UInt32 {
    /// The four bytes, least significant first (the order float32 data has in the file).
    var littleEndianBytes: [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: self >> (8 * $0)) } }
}
