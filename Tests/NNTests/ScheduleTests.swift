import Foundation
import NN
import Testing

/// The schedules of the reference cases, with the parameters of CASES in Tests/References/schedules.py.
private let schedules: [String: any LearningRateSchedule] = [
    "step": StepSchedule(base: 0.1, stepSize: 30, gamma: 0.1),
    "multiStep": MultiStepSchedule(base: 0.1, milestones: [30, 60, 80], gamma: 0.1),
    "cosine": CosineSchedule(base: 0.1, totalSteps: 100, minimum: 0.001),
    "polynomial": PolynomialSchedule(base: 0.1, totalSteps: 100, power: 2),
    "warmupConstant": WarmupSchedule(wrapping: ConstantSchedule(base: 0.4), steps: 5, startFactor: 0.25),
    "warmupStep": WarmupSchedule(wrapping: StepSchedule(base: 0.8, stepSize: 8, gamma: 0.5), steps: 10,
                                 startFactor: 0.1),
    "warmupCosine": WarmupSchedule(wrapping: CosineSchedule(base: 0.5, totalSteps: 100), steps: 5, startFactor: 0.2),
]

/// Steps compared with PyTorch: cosine schedules only up to their end, where PyTorch's cosine turns upward again
/// and dtrain's stays at the minimum.
private func comparedSteps(_ name: String) -> Range<Int> {
    name.contains("osine") ? 0..<101 : 0..<ScheduleReferences.rates[name]!.count
}

@Suite struct ScheduleTests {
    @Test func referenceTableCoversEveryScheduleCase() {
        #expect(Set(schedules.keys) == Set(ScheduleReferences.rates.keys))
    }

    @Test(arguments: schedules.keys.sorted())
    func matchesPyTorch(_ name: String) {
        let schedule = schedules[name]!, expected = ScheduleReferences.rates[name]!
        var worst = 0.0
        for step in comparedSteps(name) {
            let rate = Double(schedule.learningRate(atStep: step))
            let relative = abs(rate - expected[step]) / max(abs(expected[step]), 1e-12)
            worst = max(worst, relative)
            #expect(relative < 1e-6, "\(name) at step \(step): \(rate), PyTorch \(expected[step])")
        }
        print("\(name): OK against PyTorch, max relative difference \(worst)")
    }

    @Test func cosineAndPolynomialStayAtTheirEndAfterTotalSteps() {
        let cosine = CosineSchedule(base: 0.1, totalSteps: 100, minimum: 0.001)
        #expect(cosine.learningRate(atStep: 100) == 0.001)
        #expect(cosine.learningRate(atStep: 150) == 0.001)
        let polynomial = PolynomialSchedule(base: 0.1, totalSteps: 100, power: 2, end: 0.01)
        #expect(polynomial.learningRate(atStep: 0) == 0.1)
        #expect(abs(polynomial.learningRate(atStep: 50) - Float(0.01 + 0.09 * 0.25)) < 1e-8)
        #expect(polynomial.learningRate(atStep: 100) == 0.01)
        #expect(polynomial.learningRate(atStep: 1000) == 0.01)
    }

    @Test func warmupFollowsTheWrappedScheduleCountedFromTheStartOfTraining() {
        // Goyal et al.: from 0.1 to k * 0.1 (k = 8) over 5 epochs of 100 steps, then decays at epochs 30 and 60.
        let decay = MultiStepSchedule(base: 0.8, milestones: [3000, 6000], gamma: 0.1)
        let warmup = WarmupSchedule(wrapping: decay, steps: 500, startFactor: 0.125)
        #expect(warmup.learningRate(atStep: 0) == 0.1)
        #expect(abs(warmup.learningRate(atStep: 250) - 0.45) < 1e-7)
        #expect(warmup.learningRate(atStep: 500) == 0.8)
        #expect(abs(warmup.learningRate(atStep: 3000) - 0.08) < 1e-8)
        #expect(WarmupSchedule(wrapping: decay, steps: 0, startFactor: 0).learningRate(atStep: 0) == 0.8)
    }

    @Test(arguments: schedules.keys.sorted())
    func schedulesArePureFunctionsOfTheStep(_ name: String) {
        let schedule = schedules[name]!
        let inOrder = (0..<130).map { schedule.learningRate(atStep: $0) }
        var order = Array(0..<130)
        order.reverse()
        order.swapAt(3, 97)
        for step in order {
            #expect(schedule.learningRate(atStep: step) == inOrder[step], "\(name) at step \(step) out of order")
        }
    }

    @Test func constantIsConstant() {
        let schedule = ConstantSchedule(base: 0.05)
        #expect([0, 1, 1000, 1_000_000].allSatisfy { schedule.learningRate(atStep: $0) == 0.05 })
    }
}
