import NN

/// The `[schedule]` section: how the learning rate changes over training, in epochs.
///
/// Epochs are converted to optimizer steps when the schedule is made, so the same file works for any dataset
/// size and global batch. The rate is `optimizer.lr`, times global_batch / reference_batch when `scale_lr`
/// (Goyal et al. 2017's linear scaling rule), decayed by `name`'s rule, and multiplied during the first
/// `warmup_epochs` by a factor rising linearly from `warmup_start_factor` to 1.
public struct ScheduleSettings: Sendable, Equatable {
    /// A decay rule with the settings that apply to it.
    public enum Decay: Sendable, Equatable {
        /// The same rate throughout.
        case constant
        /// Multiply by `gamma` (> 0, default 0.1) every `step_epochs` (> 0, required) epochs.
        case step(everyEpochs: Double, gamma: Float)
        /// Multiply by `gamma` (> 0, default 0.1) at each of `milestones` (epochs > 0, increasing, required).
        case multistep(milestones: [Double], gamma: Float)
        /// Half-cosine annealing to `min_lr` (≥ 0, default 0, not scaled by `scale_lr`) at the end of training.
        case cosine(minimumLR: Float)
        /// Polynomial decay to 0 at the end of training with exponent `power` (> 0, default 1: linear).
        case poly(power: Float)
    }

    /// The names `schedule.name` may take.
    public enum Name: String, Sendable, CaseIterable {
        case constant, step, multistep, cosine, poly
    }

    /// The decay rule (`name`, default constant, and its keys).
    public var decay: Decay
    /// The length of the linear warm-up in epochs (`warmup_epochs` ≥ 0, default 0: none).
    public var warmupEpochs: Double
    /// The fraction of the rate at the first step of the warm-up (`warmup_start_factor` in [0, 1], default 0.1).
    ///
    /// A fixed default keeps the ramp independent of the batch size. Goyal et al.'s exact ramp, from the
    /// unscaled lr to the scaled one, is `warmup_start_factor = reference_batch / global_batch`.
    public var warmupStartFactor: Float
    /// Whether to scale the learning rate linearly with the global batch (`scale_lr`, default false).
    public var scaleLR: Bool
    /// The global batch at which `optimizer.lr` is meant (`reference_batch` ≥ 1, default 256).
    public var referenceBatch: Int

    /// Settings with the given values.
    public init(decay: Decay = .constant, warmupEpochs: Double = 0, warmupStartFactor: Float = 0.1,
                scaleLR: Bool = false, referenceBatch: Int = 256) {
        self.decay = decay
        self.warmupEpochs = warmupEpochs
        self.warmupStartFactor = warmupStartFactor
        self.scaleLR = scaleLR
        self.referenceBatch = referenceBatch
    }

    /// The rule's name as the config writes it.
    public var name: Name {
        switch decay {
        case .constant: return .constant
        case .step: return .step
        case .multistep: return .multistep
        case .cosine: return .cosine
        case .poly: return .poly
        }
    }

    /// The learning rate after linear scaling: `baseLR * globalBatch / referenceBatch` when `scaleLR`, else
    /// `baseLR`.
    public func effectiveLR(baseLR: Float, globalBatch: Int) -> Float {
        scaleLR ? Float(Double(baseLR) * Double(globalBatch) / Double(referenceBatch)) : baseLR
    }

    /// The learning rate at every optimizer step of a run with `stepsPerEpoch` steps per epoch and `totalSteps`
    /// steps in all (the end that cosine and poly decay towards).
    ///
    /// Epoch counts become step counts rounded to the nearest step. Milestones that round onto the step of the
    /// one before move one step later, so that each still applies its factor.
    public func makeSchedule(baseLR: Float, globalBatch: Int, stepsPerEpoch: Int,
                             totalSteps: Int) -> any LearningRateSchedule {
        let rate = effectiveLR(baseLR: baseLR, globalBatch: globalBatch)
        func steps(_ epochs: Double) -> Int { Int((epochs * Double(stepsPerEpoch)).rounded()) }
        let decayed: any LearningRateSchedule
        switch decay {
        case .constant:
            decayed = ConstantSchedule(base: rate)
        case .step(let everyEpochs, let gamma):
            decayed = StepSchedule(base: rate, stepSize: max(1, steps(everyEpochs)), gamma: gamma)
        case .multistep(let milestones, let gamma):
            var milestoneSteps: [Int] = []
            for epoch in milestones { milestoneSteps.append(max(steps(epoch), (milestoneSteps.last ?? -1) + 1)) }
            decayed = MultiStepSchedule(base: rate, milestones: milestoneSteps, gamma: gamma)
        case .cosine(let minimumLR):
            decayed = CosineSchedule(base: rate, totalSteps: max(1, totalSteps), minimum: minimumLR)
        case .poly(let power):
            decayed = PolynomialSchedule(base: rate, totalSteps: max(1, totalSteps), power: power)
        }
        let warmupSteps = steps(warmupEpochs)
        guard warmupSteps > 0 else { return decayed }
        return WarmupSchedule(wrapping: decayed, steps: warmupSteps, startFactor: warmupStartFactor)
    }

    static let keys = ["name", "warmup_epochs", "warmup_start_factor", "step_epochs", "milestones", "gamma", "min_lr",
                       "power", "scale_lr", "reference_batch"]

    init(from section: SectionReader) throws(ConfigError) {
        var section = section
        let name = try section.choice("name", of: Name.self) ?? .constant
        let decay: Decay
        switch name {
        case .constant:
            decay = .constant
        case .step:
            guard let everyEpochs = try section.number("step_epochs", .positive) else {
                throw section.missing("step_epochs", expected: "a number > 0 (epochs between decays)")
            }
            decay = .step(everyEpochs: everyEpochs, gamma: try section.float("gamma", .positive) ?? 0.1)
        case .multistep:
            guard let milestones = try section.numbers("milestones", .positive), !milestones.isEmpty else {
                throw section.missing("milestones", expected: "a non-empty array of epochs, such as [30, 60, 80]")
            }
            guard zip(milestones, milestones.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw section.outOfRange("milestones", "must be strictly increasing", "\(milestones)")
            }
            decay = .multistep(milestones: milestones, gamma: try section.float("gamma", .positive) ?? 0.1)
        case .cosine:
            decay = .cosine(minimumLR: try section.float("min_lr", .nonNegative) ?? 0)
        case .poly:
            decay = .poly(power: try section.float("power", .positive) ?? 1)
        }
        self.init(decay: decay, warmupEpochs: try section.number("warmup_epochs", .nonNegative) ?? 0,
                  warmupStartFactor: try section.float("warmup_start_factor", .closedFraction) ?? 0.1,
                  scaleLR: try section.boolean("scale_lr") ?? false,
                  referenceBatch: try section.integer("reference_batch", atLeast: 1) ?? 256)
        try section.finish(context: "schedule \(name.rawValue)")
    }

    func write(to writer: inout TOMLWriter) {
        writer.section("schedule")
        writer.set("name", name.rawValue)
        switch decay {
        case .constant:
            break
        case .step(let everyEpochs, let gamma):
            writer.set("step_epochs", everyEpochs)
            writer.set("gamma", gamma)
        case .multistep(let milestones, let gamma):
            writer.set("milestones", milestones)
            writer.set("gamma", gamma)
        case .cosine(let minimumLR):
            writer.set("min_lr", minimumLR)
        case .poly(let power):
            writer.set("power", power)
        }
        writer.set("warmup_epochs", warmupEpochs)
        writer.set("warmup_start_factor", warmupStartFactor)
        writer.set("scale_lr", scaleLR)
        writer.set("reference_batch", referenceBatch)
    }
}
