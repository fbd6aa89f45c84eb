import Foundation
import Testing
import Trainer

/// Every kind of user mistake gives one line naming the file, the key and what was expected.
@Suite struct ConfigErrorTests {
    /// `ConfigTesting.minimal` with `old` replaced by `new`.
    func minimal(replacing old: String, with new: String) -> String {
        let text = ConfigTesting.minimal.replacingOccurrences(of: old, with: new)
        precondition(text != ConfigTesting.minimal, "'\(old)' is not in the minimal config")
        return text
    }

    @Test func missingFile() {
        #expect(throws: ConfigError.unreadableFile(path: "no/such/lenet5.toml", reason: "no such file")) {
            try ConfigLoader.load(path: "no/such/lenet5.toml")
        }
        #expect(ConfigError.unreadableFile(path: "lenet5.toml", reason: "no such file").description
            == "cannot read config lenet5.toml: no such file")
    }

    @Test func directoryInsteadOfFile() {
        let path = FileManager.default.temporaryDirectory.path
        #expect(throws: ConfigError.unreadableFile(path: path, reason: "it is a directory")) {
            try ConfigLoader.load(path: path)
        }
    }

    @Test func malformedTOMLNamesLineAndColumn() throws {
        let message = try #require(ConfigTesting.message("[run]\nname = \"x\"\nepochs = = 3\n"))
        #expect(message.hasPrefix("malformed TOML in test.toml at line 3, column "), "\(message)")
    }

    @Test func unknownKeySuggestsTheClosest() {
        #expect(ConfigTesting.message(minimal(replacing: "lr = 0.1", with: "lr = 0.1\nmomentun = 0.9"))
            == "unknown key optimizer.momentun in test.toml; did you mean optimizer.momentum?")
    }

    @Test func unknownSectionSuggestsTheClosest() {
        #expect(ConfigTesting.message(minimal(replacing: "[optimizer]", with: "[optimiser]"))
            == "unknown section [optimiser] in test.toml; did you mean [optimizer]?")
    }

    @Test func keyInTheWrongSectionPointsToItsSection() {
        #expect(ConfigTesting.message(minimal(replacing: "lr = 0.1", with: "lr = 0.1\nwarmup_epochs = 5"))
            == "unknown key optimizer.warmup_epochs in test.toml; did you mean schedule.warmup_epochs?")
        #expect(ConfigTesting.message("lr = 0.1\n" + ConfigTesting.minimal)
            == "unknown key lr in test.toml; did you mean optimizer.lr?")
    }

    @Test func unknownKeyWithoutCloseMatchListsTheKnownKeys() {
        #expect(ConfigTesting.message(minimal(replacing: "global_batch = 32", with: "global_batch = 32\ncolour = 1"))
            == "unknown key data.colour in test.toml (known keys: train, val, global_batch, eval_batch, shuffle, cache_mb, image_size, resize, augment, crop_padding, workers)")
    }

    @Test func wrongTypes() {
        #expect(ConfigTesting.message(minimal(replacing: "lr = 0.1", with: "lr = \"fast\""))
            == "optimizer.lr in test.toml is a string, expected a number")
        #expect(ConfigTesting.message(ConfigTesting.minimal + "\n[run]\nepochs = 1.5")
            == "run.epochs in test.toml is a floating-point number, expected an integer")
        #expect(ConfigTesting.message(ConfigTesting.minimal + "\n[data.extra]\nx = 1")
            == "unknown key data.extra in test.toml (known keys: train, val, global_batch, eval_batch, shuffle, cache_mb, image_size, resize, augment, crop_padding, workers)")
        #expect(ConfigTesting.message("run = 3\n" + ConfigTesting.minimal)
            == "run in test.toml is an integer, expected a table ([run])")
        #expect(ConfigTesting.message(ConfigTesting.minimal + "\n[schedule]\nname = \"multistep\"\nmilestones = [30, \"x\"]")
            == "schedule.milestones in test.toml is an array containing a string, expected an array of numbers")
        #expect(ConfigTesting.message(overrides: ["data.shuffle=1"])
            == "data.shuffle in --set data.shuffle=1 is an integer, expected a boolean")
        #expect(ConfigTesting.message(overrides: ["run.name=1979-05-27"])
            == "run.name in --set run.name=1979-05-27 is a date, expected a string")
    }

    @Test func integersAreAcceptedForNumbers() throws {
        let config = try ConfigTesting.load(minimal(replacing: "lr = 0.1", with: "lr = 1"))
        #expect(config.optimizer.learningRate == 1)
    }

    @Test func outOfRange() {
        #expect(ConfigTesting.message(minimal(replacing: "global_batch = 32", with: "global_batch = 0"))
            == "data.global_batch in test.toml must be ≥ 1, got 0")
        #expect(ConfigTesting.message(minimal(replacing: "lr = 0.1", with: "lr = 0"))
            == "optimizer.lr in test.toml must be > 0, got 0.0")
        #expect(ConfigTesting.message(minimal(replacing: "lr = 0.1", with: "lr = nan"))
            == "optimizer.lr in test.toml must be finite, got nan")
        #expect(ConfigTesting.message(minimal(replacing: "lr = 0.1", with: "lr = 0.1\nname = \"momentum\"\nmomentum = 1"))
            == "optimizer.momentum in test.toml must be in [0, 1), got 1.0")
        #expect(ConfigTesting.message(minimal(replacing: "lr = 0.1", with: "lr = 0.1\nname = \"nesterov\"\nmomentum = 0"))
            == "optimizer.momentum in test.toml must be > 0 for nesterov, got 0.0")
        #expect(ConfigTesting.message(ConfigTesting.minimal + "\n[run]\nseed = -1")
            == "run.seed in test.toml must be ≥ 0, got -1")
        #expect(ConfigTesting.message(ConfigTesting.minimal + "\n[run]\nname = \"\"")
            == "run.name in test.toml must not be empty, got \"\"")
        #expect(ConfigTesting.message(ConfigTesting.minimal + "\n[schedule]\nname = \"multistep\"\nmilestones = [60, 30]")
            == "schedule.milestones in test.toml must be strictly increasing, got [60.0, 30.0]")
        #expect(ConfigTesting.message(ConfigTesting.minimal + "\n[checkpoint]\nkeep = 0")
            == "checkpoint.keep in test.toml must be ≥ 1, got 0")
    }

    @Test func missingRequiredKeys() {
        #expect(ConfigTesting.message(minimal(replacing: "train = \"train.h5\"", with: ""))
            == "missing required key data.train in test.toml, expected a string (the training set's HDF5 file)")
        #expect(ConfigTesting.message(minimal(replacing: "global_batch = 32", with: ""))
            == "missing required key data.global_batch in test.toml, expected an integer ≥ 1 (samples per step over all ranks)")
        #expect(ConfigTesting.message(minimal(replacing: "lr = 0.1", with: ""))
            == "missing required key optimizer.lr in test.toml, expected a number > 0 (the base learning rate)")
        #expect(ConfigTesting.message(minimal(replacing: "name = \"lenet5\"", with: ""))
            == "missing required key model.name in test.toml, expected one of mlp, lenet5, resnet20, resnet18, resnet50, alexnet, vgg16, layers")
        #expect(ConfigTesting.message(ConfigTesting.minimal + "\n[schedule]\nname = \"step\"")
            == "missing required key schedule.step_epochs in test.toml, expected a number > 0 (epochs between decays)")
    }

    @Test func invalidChoiceListsTheAllowedValues() {
        #expect(ConfigTesting.message(minimal(replacing: "lr = 0.1", with: "lr = 0.1\nname = \"adamx\""))
            == "optimizer.name in test.toml is \"adamx\", expected one of sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw, lars")
        #expect(ConfigTesting.message(minimal(replacing: "name = \"lenet5\"", with: "name = \"lenet5\"\npooling = \"min\""))
            == "model.pooling in test.toml is \"min\", expected one of max, average")
    }

    @Test func optionsThatDoNotApplyAreErrors() {
        #expect(ConfigTesting.message(minimal(replacing: "name = \"lenet5\"", with: "name = \"resnet50\"\npooling = \"max\""))
            == "model.pooling in test.toml does not apply to model resnet50")
        #expect(ConfigTesting.message(minimal(replacing: "lr = 0.1", with: "lr = 0.1\nbeta1 = 0.9"))
            == "optimizer.beta1 in test.toml does not apply to optimizer sgd")
        #expect(ConfigTesting.message(ConfigTesting.minimal + "\n[schedule]\nmin_lr = 0.001")
            == "schedule.min_lr in test.toml does not apply to schedule constant")
    }

    @Test func layerTablesAreCheckedKeyByKey() {
        // The layer tables come last so that keys appended to the text land in the dense layer's table.
        let layers = minimal(replacing: "name = \"lenet5\"", with: "name = \"layers\"") + """

            [[model.layers]]
            type = "flatten"
            [[model.layers]]
            type = "dense"
            """
        #expect(ConfigTesting.message(layers + "\nout = 10\nstrid = 2")
            == "unknown key model.layers[1].strid in test.toml; did you mean model.layers[1].stride?")
        #expect(ConfigTesting.message(layers + "\nout = 10\nkernel = 2")
            == "model.layers[1].kernel in test.toml does not apply to layer type dense")
        #expect(ConfigTesting.message(layers)
            == "missing required key model.layers[1].out in test.toml, expected an integer ≥ 1")
        #expect(ConfigTesting.message(layers.replacingOccurrences(of: "\"dense\"", with: "\"dens\""))
            == "model.layers[1].type in test.toml is \"dens\", expected one of dense, conv2d, maxpool, avgpool, global_avgpool, flatten, relu, tanh, sigmoid, dropout, batchnorm")
        #expect(ConfigTesting.message(minimal(replacing: "name = \"lenet5\"", with: "name = \"layers\""))
            == "missing required key model.layers in test.toml, expected at least one [[model.layers]] table")
    }

    @Test func badOverrideSyntax() {
        #expect(ConfigTesting.message(overrides: ["optimizer.lr"])
            == "bad override 'optimizer.lr': expected section.key=value")
        #expect(ConfigTesting.message(overrides: ["lr=0.1"])
            == "bad override 'lr=0.1': expected section.key=value, got key 'lr'")
        #expect(ConfigTesting.message(overrides: ["model.layers.0.out=3"])
            == "bad override 'model.layers.0.out=3': expected section.key=value, got key 'model.layers.0.out'")
        #expect(ConfigTesting.message(overrides: ["optimizer.lr="])
            == "bad override 'optimizer.lr=': the value is empty")
        let malformed = ConfigTesting.message(overrides: ["schedule.milestones=[30,60"]) ?? ""
        #expect(malformed.hasPrefix("bad override 'schedule.milestones=[30,60': the value is not valid TOML ("), "\(malformed)")
        #expect(ConfigTesting.message(overrides: ["run.name=\"x\"\nseed = 3"])
            == #"bad override 'run.name="x"\nseed = 3': the value must be a single TOML value"#)
    }

    @Test func overrideErrorsNameTheOverride() {
        #expect(ConfigTesting.message(overrides: ["optimizer.momentun=0.5"])
            == "unknown key optimizer.momentun in --set optimizer.momentun=0.5; did you mean optimizer.momentum?")
        #expect(ConfigTesting.message(overrides: ["optimiser.lr=0.5"])
            == "unknown section [optimiser] in --set optimiser.lr=0.5; did you mean [optimizer]?")
        #expect(ConfigTesting.message(overrides: ["optimizer.lr=fast"])
            == "optimizer.lr in --set optimizer.lr=fast is a string, expected a number")
    }

    @Test func outputDirectoryBlockedByAFile() throws {
        let file = FileManager.default.temporaryDirectory.path + "/dtrain-out-\(UUID().uuidString)"
        try "".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(throws: ConfigError.notADirectory(key: "run.out_dir", path: file, blocking: file)) {
            try RunSettings(outputDirectory: file).checkOutputDirectory()
        }
        #expect(ConfigError.notADirectory(key: "run.out_dir", path: "runs/a/b", blocking: "runs/a").description
            == "run.out_dir = runs/a/b cannot be created: runs/a is a file, not a directory")
        #expect(throws: ConfigError.notADirectory(key: "run.out_dir", path: file + "/run/a", blocking: file)) {
            try RunSettings(outputDirectory: file + "/run/a").checkOutputDirectory()
        }
        #expect(throws: Never.self) { try RunSettings(outputDirectory: file + "-absent/run").checkOutputDirectory() }
    }

    @Test func modelThatCannotTakeTheInput() throws {
        let lenet = try ConfigTesting.load()
        #expect(throws: ConfigError.modelInput(model: "lenet5", inputShape: [3, 224, 224],
                                               reason: "LeNet-5 takes [C, 28, 28] or [C, 32, 32] images")) {
            try lenet.model.makeGraph(inputShape: [3, 224, 224], classes: 10)
        }
        #expect(ConfigError.modelInput(model: "lenet5", inputShape: [3, 224, 224], reason: "LeNet-5 takes [C, 28, 28] or [C, 32, 32] images").description
            == "model lenet5 cannot take samples of shape 3x224x224: LeNet-5 takes [C, 28, 28] or [C, 32, 32] images")
        let resnet = try ConfigTesting.load(overrides: ["model.name=resnet18"])
        #expect(throws: ConfigError.self) { try resnet.model.makeGraph(inputShape: [784], classes: 10) }
        let resnet20 = try ConfigTesting.load(overrides: ["model.name=resnet20"])
        #expect(throws: ConfigError.modelInput(model: "resnet20", inputShape: [3, 32], reason: "ResNet-20 takes [C, H, W] images")) {
            try resnet20.model.makeGraph(inputShape: [3, 32], classes: 10)
        }
        #expect(throws: ConfigError.modelInput(model: "lenet5", inputShape: [1, 28, 28], reason: "the data has 0 classes, at least 1 is needed")) {
            try lenet.model.makeGraph(inputShape: [1, 28, 28], classes: 0)
        }
    }

    @Test func layersMustEndInOneScorePerClass() throws {
        let config = try ConfigTesting.load(overrides: [
            "model.name=layers", #"model.layers=[{type = "flatten"}, {type = "dense", out = 84}]"#,
        ])
        #expect(throws: ConfigError.modelInput(model: "layers", inputShape: [1, 28, 28],
                                               reason: "the model's output has shape [84], expected [10] (one score per class)")) {
            try config.model.makeGraph(inputShape: [1, 28, 28], classes: 10)
        }
        let noFlatten = try ConfigTesting.load(overrides: ["model.name=layers", #"model.layers=[{type = "dense", out = 10}]"#])
        let message = #"model layers cannot take samples of shape 1x28x28: layers.0: dense needs flat input, got [1, 28, 28] (add a flatten layer)"#
        do {
            _ = try noFlatten.model.makeGraph(inputShape: [1, 28, 28], classes: 10)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == message)
        }
    }
}
