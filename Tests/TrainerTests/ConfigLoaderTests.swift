import Foundation
import NN
import Testing
import Trainer

@Suite struct ConfigLoaderTests {
    static let full = """
        # A config that sets every key away from its default.
        [run]
        name = "full"
        seed = 42
        epochs = 7
        max_steps = 1000
        out_dir = "/tmp/full"

        [data]
        train = "data/x/train.h5"
        val = "data/x/val.h5"
        global_batch = 128
        eval_batch = 500
        shuffle = false
        cache_mb = 100

        [model]
        name = "mlp"
        hidden = [300, 100]
        activation = "tanh"
        dropout = 0.25

        [optimizer]
        name = "adamw"
        lr = 3e-4
        beta1 = 0.8
        beta2 = 0.99
        eps = 1e-6
        weight_decay = 0.05
        decay_bias_and_norm = false
        label_smoothing = 0.1

        [schedule]
        name = "multistep"
        milestones = [2, 4.5]
        gamma = 0.5
        warmup_epochs = 0.5
        warmup_start_factor = 0.25
        scale_lr = true
        reference_batch = 64

        [checkpoint]
        every_steps = 200
        every_minutes = 15
        keep = 5

        [log]
        every_steps = 10
        """

    @Test func fullConfigMapsEveryKey() throws {
        let config = try ConfigTesting.load(Self.full)
        #expect(config.run == RunSettings(name: "full", seed: 42, epochs: 7, maxSteps: 1000, outputDirectory: "/tmp/full"))
        #expect(config.data == DataSettings(train: "data/x/train.h5", validation: "data/x/val.h5", globalBatch: 128,
                                            evalBatch: 500, shuffle: false, cacheMB: 100))
        #expect(config.model == .mlp(hidden: [300, 100], activation: .tanh, dropout: 0.25))
        #expect(config.optimizer == OptimizerSettings(algorithm: .adamw(beta1: 0.8, beta2: 0.99, epsilon: 1e-6),
                                                      learningRate: 3e-4, weightDecay: 0.05, decayBiasAndNorm: false,
                                                      labelSmoothing: 0.1))
        #expect(config.schedule == ScheduleSettings(decay: .multistep(milestones: [2, 4.5], gamma: 0.5), warmupEpochs: 0.5,
                                                    warmupStartFactor: 0.25, scaleLR: true, referenceBatch: 64))
        #expect(config.checkpoint == CheckpointSettings(everySteps: 200, everyMinutes: 15, keep: 5))
        #expect(config.log == LogSettings(everySteps: 10))
    }

    @Test func fullConfigRoundTripsThroughResolvedText() throws {
        let loaded = try ConfigLoader.parse(text: Self.full, file: "full.toml")
        #expect(loaded.resolvedText == loaded.config.resolvedText)
        ConfigTesting.expectRoundTrip(loaded.config)
    }

    @Test func defaultsFillEveryOptionalKey() throws {
        let config = try ConfigTesting.load()
        #expect(config.run == RunSettings(name: "run", seed: 0, epochs: 1, maxSteps: nil, outputDirectory: "runs/run"))
        #expect(config.data == DataSettings(train: "train.h5", validation: nil, globalBatch: 32, evalBatch: 32,
                                            shuffle: true, cacheMB: 4096))
        #expect(config.model == .lenet5(activation: .tanh, pooling: .max))
        #expect(config.optimizer == OptimizerSettings(algorithm: .sgd(momentum: 0), learningRate: 0.1, weightDecay: 0,
                                                      decayBiasAndNorm: true))
        #expect(config.schedule == ScheduleSettings(decay: .constant, warmupEpochs: 0, warmupStartFactor: 0.1,
                                                    scaleLR: false, referenceBatch: 256))
        #expect(config.checkpoint == CheckpointSettings(everySteps: nil, everyMinutes: nil, keep: 3))
        #expect(config.log == LogSettings(everySteps: 50))
        ConfigTesting.expectRoundTrip(config)
    }

    @Test func outputDirectoryFollowsTheRunName() throws {
        let config = try ConfigTesting.load(overrides: ["run.name=baseline"])
        #expect(config.run.outputDirectory == "runs/baseline")
    }

    @Test func resolvedTextListsEveryKeyInOrder() throws {
        let text = try ConfigTesting.load().resolvedText
        let expected = """
            # dtrain config with every setting resolved, defaults included.

            [run]
            name = "run"
            seed = 0
            epochs = 1
            # max_steps is not set
            out_dir = "runs/run"

            [data]
            train = "train.h5"
            # val is not set
            global_batch = 32
            eval_batch = 32
            shuffle = true
            cache_mb = 4096
            # image_size is not set
            # resize is not set
            # augment is not set
            crop_padding = 4
            workers = 2

            [model]
            name = "lenet5"
            # init is not set
            sync_bn = false
            activation = "tanh"
            pooling = "max"

            [optimizer]
            name = "sgd"
            lr = 0.1
            momentum = 0.0
            weight_decay = 0.0
            decay_bias_and_norm = true
            label_smoothing = 0.0

            [schedule]
            name = "constant"
            warmup_epochs = 0.0
            warmup_start_factor = 0.1
            scale_lr = false
            reference_batch = 256

            [checkpoint]
            # every_steps is not set
            # every_minutes is not set
            keep = 3

            [log]
            every_steps = 50

            [comm]
            stall_warning_seconds = 60.0
            stall_timeout_seconds = 600.0
            bucket_mb = 25.0
            compression = "none"

            """
        #expect(text == expected)
    }

    @Test(arguments: OptimizerSettings.Name.allCases)
    func everyOptimizerRoundTrips(name: OptimizerSettings.Name) throws {
        let config = try ConfigTesting.load(overrides: ["optimizer.name=\(name.rawValue)"])
        #expect(config.optimizer.name == name)
        ConfigTesting.expectRoundTrip(config)
    }

    @Test(arguments: [
        ["schedule.name=constant"], ["schedule.name=step", "schedule.step_epochs=2.5"],
        ["schedule.name=multistep", "schedule.milestones=[30, 60, 80]"], ["schedule.name=cosine", "schedule.min_lr=1e-5"],
        ["schedule.name=poly", "schedule.power=2"],
    ])
    func everyScheduleRoundTrips(overrides: [String]) throws {
        ConfigTesting.expectRoundTrip(try ConfigTesting.load(overrides: overrides))
    }

    @Test(arguments: ["mlp", "lenet5", "resnet20", "resnet18", "resnet50", "alexnet", "vgg16"])
    func everyZooModelRoundTrips(name: String) throws {
        let config = try ConfigTesting.load(overrides: ["model.name=\(name)"])
        #expect(config.model.name.rawValue == name)
        ConfigTesting.expectRoundTrip(config)
    }

    @Test func alexnetAndVGGTakeTheirClassifierDropout() throws {
        #expect(try ConfigTesting.load(overrides: ["model.name=alexnet", "model.dropout=0.25"]).model == .alexnet(dropout: 0.25))
        #expect(try ConfigTesting.load(overrides: ["model.name=vgg16"]).model == .vgg16(dropout: 0.5))
        #expect(throws: ConfigError.self) { try ConfigTesting.load(overrides: ["model.name=vgg16", "model.dropout=1"]) }
    }

    @Test func layersModelMapsEveryLayerType() throws {
        let text = ConfigTesting.minimal.replacingOccurrences(of: "name = \"lenet5\"", with: """
            name = "layers"

            [[model.layers]]
            type = "conv2d"
            out = 8
            kernel = 3
            padding = 1
            bias = false

            [[model.layers]]
            type = "batchnorm"

            [[model.layers]]
            type = "relu"

            [[model.layers]]
            type = "maxpool"
            kernel = 2

            [[model.layers]]
            type = "avgpool"
            kernel = 3
            stride = 1
            padding = 1

            [[model.layers]]
            type = "tanh"

            [[model.layers]]
            type = "global_avgpool"

            [[model.layers]]
            type = "flatten"

            [[model.layers]]
            type = "dropout"

            [[model.layers]]
            type = "sigmoid"

            [[model.layers]]
            type = "dense"
            out = 10
            """)
        let config = try ConfigTesting.load(text)
        #expect(config.model == .layers([
            .conv2d(outChannels: 8, kernel: 3, stride: 1, padding: 1, bias: false), .batchNorm, .activation(.relu),
            .maxPool(kernel: 2, stride: 2, padding: 0), .avgPool(kernel: 3, stride: 1, padding: 1), .activation(.tanh),
            .globalAvgPool, .flatten, .dropout(probability: 0.5), .activation(.sigmoid), .dense(outFeatures: 10, bias: true),
        ]))
        ConfigTesting.expectRoundTrip(config)
    }

    @Test func stringsWithSpecialCharactersRoundTrip() throws {
        let config = try ConfigTesting.load(overrides: [#"run.name="a \"quoted\" name\twith\\escapes""#])
        #expect(config.run.name == "a \"quoted\" name\twith\\escapes")
        ConfigTesting.expectRoundTrip(config)
    }

    @Test func fingerprintIsStableAndTracksEverySetting() throws {
        let first = try ConfigTesting.load()
        let second = try ConfigTesting.load()
        let changed = try ConfigTesting.load(overrides: ["optimizer.lr=0.10001"])
        #expect(first.fingerprint == second.fingerprint)
        #expect(first.fingerprint != changed.fingerprint)
        // Comments and key order in the file do not change the experiment, so they do not change the fingerprint.
        let reordered = try ConfigTesting.load("""
            # same settings, different layout
            [optimizer]
            lr = 0.1
            [model]
            name = "lenet5"
            [data]
            global_batch = 32
            train = "train.h5"
            """)
        #expect(reordered.fingerprint == first.fingerprint)
    }

    @Test func fingerprintIsFNV1aOfTheResolvedText() throws {
        let config = try ConfigTesting.load()
        var hash: UInt64 = 14_695_981_039_346_656_037
        for byte in config.resolvedText.utf8 { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
        #expect(config.fingerprint == hash)
    }

    @Test func loadsFromAFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("dtrain-config-\(UInt64.random(in: 0...UInt64.max)).toml")
        try ConfigTesting.minimal.write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        let loaded = try ConfigLoader.load(path: url.path, overrides: ["run.epochs=3"])
        #expect(loaded.config.run.epochs == 3)
    }

    @Test func everyExampleConfigValidates() throws {
        let datasets = ConfigTesting.repositoryRoot.appendingPathComponent("datasets")
        let paths = (FileManager.default.enumerator(atPath: datasets.path)?.allObjects as? [String] ?? [])
            .filter { $0.hasSuffix(".toml") }.sorted()
        #expect(paths.count >= 5)
        for path in paths {
            do {
                let loaded = try ConfigLoader.load(path: datasets.appendingPathComponent(path).path)
                ConfigTesting.expectRoundTrip(loaded.config)
            } catch {
                Issue.record("datasets/\(path): \(error)")
            }
        }
    }

    @Test func exampleConfigsBuildForTheirData() throws {
        let datasets = ConfigTesting.repositoryRoot.appendingPathComponent("datasets")
        for (path, shape, classes) in [("mnist/lenet5.toml", [1, 28, 28], 10), ("mnist/mlp.toml", [1, 28, 28], 10),
                                       ("fashion-mnist/lenet5.toml", [1, 28, 28], 10),
                                       ("fashion-mnist/mlp.toml", [1, 28, 28], 10),
                                       ("imagenet/imagenet.toml", [3, 224, 224], 1000),
                                       ("imagenet/alexnet.toml", [3, 224, 224], 1000)] {
            let config = try ConfigLoader.load(path: datasets.appendingPathComponent(path).path).config
            _ = try config.model.makeGraph(inputShape: shape, classes: classes)
        }
        let imagenet = try ConfigLoader.load(path: datasets.appendingPathComponent("imagenet/imagenet.toml").path).config
        #expect(imagenet.data.globalBatch == 256)
        #expect(imagenet.schedule.effectiveLR(baseLR: imagenet.optimizer.learningRate, globalBatch: 256) == 0.1)
        #expect(imagenet.optimizer.decayBiasAndNorm == false)
        let alexnet = try ConfigLoader.load(path: datasets.appendingPathComponent("imagenet/alexnet.toml").path).config
        #expect(alexnet.model == .alexnet(dropout: 0.5))
        #expect(alexnet.schedule.effectiveLR(baseLR: alexnet.optimizer.learningRate, globalBatch: 256) == 0.01)
    }
}
