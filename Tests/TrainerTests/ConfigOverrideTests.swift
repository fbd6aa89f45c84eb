import Testing
import Trainer

@Suite struct ConfigOverrideTests {
    @Test func numberOverridesTheFile() throws {
        #expect(try ConfigTesting.load(overrides: ["optimizer.lr=0.05"]).optimizer.learningRate == 0.05)
        #expect(try ConfigTesting.load(overrides: ["optimizer.lr = 2"]).optimizer.learningRate == 2)
    }

    @Test func quotedAndBareStrings() throws {
        #expect(try ConfigTesting.load(overrides: [#"run.name="quoted name""#]).run.name == "quoted name")
        #expect(try ConfigTesting.load(overrides: ["run.name=bare-name"]).run.name == "bare-name")
        #expect(try ConfigTesting.load(overrides: ["data.train=/data/mnist/train.h5"]).data.train == "/data/mnist/train.h5")
        #expect(try ConfigTesting.load(overrides: ["optimizer.name=adam"]).optimizer.name == .adam)
    }

    @Test func arrayValue() throws {
        let config = try ConfigTesting.load(overrides: ["schedule.name=multistep", "schedule.milestones=[30,60,80]"])
        #expect(config.schedule.decay == .multistep(milestones: [30, 60, 80], gamma: 0.1))
    }

    @Test func newKeysAndSectionsAbsentFromTheFile() throws {
        let config = try ConfigTesting.load(overrides: ["run.max_steps=100", "checkpoint.every_steps=500", "data.val=v.h5"])
        #expect(config.run.maxSteps == 100)
        #expect(config.checkpoint.everySteps == 500)
        #expect(config.data.validation == "v.h5")
    }

    @Test func laterOverridesWin() throws {
        #expect(try ConfigTesting.load(overrides: ["run.epochs=3", "run.epochs=5"]).run.epochs == 5)
    }

    @Test func overrideCanSwitchVariantAndItsOptions() throws {
        let config = try ConfigTesting.load(overrides: ["model.name=mlp", "model.hidden=[64]", "model.dropout=0.1"])
        #expect(config.model == .mlp(hidden: [64], activation: .relu, dropout: 0.1))
    }

    @Test func overridesAreInTheResolvedText() throws {
        let loaded = try ConfigLoader.parse(text: ConfigTesting.minimal, file: "test.toml", overrides: ["run.seed=7"])
        #expect(loaded.resolvedText.contains("\nseed = 7\n"))
        ConfigTesting.expectRoundTrip(loaded.config)
    }
}
