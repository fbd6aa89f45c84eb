import NN
import Testing
import Trainer

@Suite struct ConfigFactoryTests {
    /// Segments of a small model with weights, biases and batch norm, for the optimizers' constructors.
    let segments = [
        ParameterSegment(name: "conv.weight", offset: 0, shape: [4, 1, 3, 3], role: .weight),
        ParameterSegment(name: "bn.weight", offset: 36, shape: [4], role: .normalization),
        ParameterSegment(name: "fc.bias", offset: 40, shape: [2], role: .bias),
    ]

    func optimizer(_ overrides: String...) throws -> any Optimizer {
        try ConfigTesting.load(overrides: overrides).optimizer.makeOptimizer(segments: segments)
    }

    @Test func optimizersHaveTheConfiguredTypeAndSettings() throws {
        let sgd = try #require(try optimizer() as? SGD)
        #expect(sgd.momentum == 0 && !sgd.nesterov && sgd.weightDecay == 0 && !sgd.exemptBiasAndNormalization)
        let momentum = try #require(try optimizer("optimizer.name=momentum", "optimizer.weight_decay=5e-4") as? SGD)
        #expect(momentum.momentum == 0.9 && !momentum.nesterov && momentum.weightDecay == 5e-4)
        let nesterov = try #require(try optimizer("optimizer.name=nesterov", "optimizer.momentum=0.8") as? SGD)
        #expect(nesterov.momentum == 0.8 && nesterov.nesterov)
        let adagrad = try #require(try optimizer("optimizer.name=adagrad") as? AdaGrad)
        #expect(adagrad.epsilon == 1e-10)
        let rmsprop = try #require(try optimizer("optimizer.name=rmsprop", "optimizer.alpha=0.9") as? RMSProp)
        #expect(rmsprop.alpha == 0.9 && rmsprop.epsilon == 1e-8 && rmsprop.momentum == 0)
        let adam = try #require(try optimizer("optimizer.name=adam", "optimizer.beta2=0.98") as? Adam)
        #expect(adam.beta1 == 0.9 && adam.beta2 == 0.98 && adam.weightDecay == 0)
        let adamw = try #require(try optimizer("optimizer.name=adamw") as? AdamW)
        #expect(adamw.weightDecay == 0.01 && adamw.epsilon == 1e-8)
        let lars = try #require(try optimizer("optimizer.name=lars", "optimizer.eta=0.02",
                                              "optimizer.decay_bias_and_norm=false") as? LARS)
        #expect(lars.trustCoefficient == 0.02 && lars.momentum == 0.9 && lars.exemptBiasAndNormalization)
    }

    /// Goyal et al.: lr 0.1 per 256 images at global batch 512 is 0.2, reached after 5 warm-up epochs and divided
    /// by 10 at epochs 30, 60 and 80.
    @Test func goyalRecipe() throws {
        let config = try ConfigTesting.load(overrides: [
            "data.global_batch=512", "schedule.name=multistep", "schedule.milestones=[30, 60, 80]",
            "schedule.warmup_epochs=5", "schedule.scale_lr=true",
        ])
        let settings = config.schedule
        #expect(settings.effectiveLR(baseLR: 0.1, globalBatch: 512) == 0.2)
        let schedule = settings.makeSchedule(baseLR: config.optimizer.learningRate, globalBatch: 512, stepsPerEpoch: 100,
                                             totalSteps: 9000)
        let expected: [(step: Int, rate: Float)] = [
            (0, 0.02), (250, 0.11), (500, 0.2), (2999, 0.2), (3000, 0.02), (5999, 0.02), (6000, 0.002), (8000, 0.0002),
        ]
        for (step, rate) in expected {
            #expect(abs(schedule.learningRate(atStep: step) - rate) <= 1e-6 * rate, "step \(step)")
        }
        // Goyal et al.'s exact ramp starts at the unscaled rate.
        let exact = try ConfigTesting.load(overrides: [
            "data.global_batch=512", "schedule.warmup_epochs=5", "schedule.scale_lr=true",
            "schedule.warmup_start_factor=0.5",
        ]).schedule.makeSchedule(baseLR: 0.1, globalBatch: 512, stepsPerEpoch: 100, totalSteps: 9000)
        #expect(abs(exact.learningRate(atStep: 0) - 0.1) <= 1e-7)
    }

    @Test func withoutScalingTheRateIsTheBaseRate() throws {
        let settings = try ConfigTesting.load().schedule
        #expect(settings.effectiveLR(baseLR: 0.1, globalBatch: 4096) == 0.1)
        let schedule = settings.makeSchedule(baseLR: 0.1, globalBatch: 4096, stepsPerEpoch: 10, totalSteps: 10)
        #expect(schedule is ConstantSchedule)
        #expect(schedule.learningRate(atStep: 7) == 0.1)
    }

    @Test func decayRulesConvertEpochsToSteps() throws {
        func schedule(_ overrides: String...) throws -> any LearningRateSchedule {
            try ConfigTesting.load(overrides: overrides).schedule
                .makeSchedule(baseLR: 0.1, globalBatch: 32, stepsPerEpoch: 50, totalSteps: 500)
        }
        let step = try #require(try schedule("schedule.name=step", "schedule.step_epochs=2.5", "schedule.gamma=0.5")
            as? StepSchedule)
        #expect(step.stepSize == 125 && step.gamma == 0.5)
        let cosine = try #require(try schedule("schedule.name=cosine", "schedule.min_lr=0.001") as? CosineSchedule)
        #expect(cosine.totalSteps == 500 && cosine.minimum == 0.001 && cosine.learningRate(atStep: 500) == 0.001)
        let poly = try #require(try schedule("schedule.name=poly", "schedule.power=2") as? PolynomialSchedule)
        #expect(poly.totalSteps == 500 && poly.power == 2)
        let warm = try #require(try schedule("schedule.warmup_epochs=1", "schedule.warmup_start_factor=0") as? WarmupSchedule)
        #expect(warm.steps == 50 && warm.startFactor == 0 && warm.learningRate(atStep: 25) == 0.05)
    }

    @Test func milestonesThatRoundTogetherStayDistinct() throws {
        let schedule = try ConfigTesting.load(overrides: ["schedule.name=multistep", "schedule.milestones=[1, 1.1, 1.2]"])
            .schedule.makeSchedule(baseLR: 1, globalBatch: 32, stepsPerEpoch: 2, totalSteps: 10)
        let multistep = try #require(schedule as? MultiStepSchedule)
        #expect(multistep.milestones == [2, 3, 4])
    }

    func parameterCount(_ overrides: [String], inputShape: [Int], classes: Int = 10) throws -> Int {
        let graph = try ConfigTesting.load(overrides: overrides).model.makeGraph(inputShape: inputShape, classes: classes)
        return try Model(graph: graph, inputShape: inputShape, seed: 1).parameterCount
    }

    @Test func zooGraphsHaveTheirParameterCounts() throws {
        #expect(try parameterCount([], inputShape: [1, 28, 28]) == 61_706)
        #expect(try parameterCount(["model.activation=relu", "model.pooling=average"], inputShape: [1, 32, 32]) == 61_706)
        #expect(try parameterCount(["model.name=resnet20"], inputShape: [3, 32, 32]) == 269_722)
        #expect(try parameterCount(["model.name=resnet20", "model.shortcut=projection"], inputShape: [3, 32, 32]) == 272_474)
        #expect(try parameterCount(["model.name=resnet18"], inputShape: [3, 224, 224], classes: 1000) == 11_689_512)
        #expect(try parameterCount(["model.name=mlp", "model.hidden=[512, 256]"], inputShape: [1, 28, 28])
            == 784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10)
    }

    @Test func resnet50GraphHasTorchvisionsParameterCount() throws {
        // Counted from the layers' parameter shapes, so the test does not allocate 100 MB of parameters.
        let graph = try ConfigTesting.load(overrides: ["model.name=resnet50"]).model
            .makeGraph(inputShape: [3, 224, 224], classes: 1000)
        let count = graph.entries.flatMap(\.layer.parameterSpecs).map { $0.shape.reduce(1, *) }.reduce(0, +)
        #expect(count == 25_557_032)
    }

    @Test func layersGraphFromConfig() throws {
        let count = try parameterCount([
            "model.name=layers",
            #"model.layers=[{type="conv2d", out=4, kernel=3}, {type="relu"}, {type="maxpool", kernel=2}, {type="flatten"}, {type="dense", out=10}]"#,
        ], inputShape: [1, 28, 28])
        #expect(count == 4 * 9 + 4 + 4 * 13 * 13 * 10 + 10)
    }
}
