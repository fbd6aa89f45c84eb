import Engine
import Foundation
import NN
import Testing

/// The three-parameter model of Tests/References/optimizers.py: a weight, a bias and a normalization scale.
private let segments = [
    ParameterSegment(name: "fc.weight", offset: 0, shape: [2, 3], role: .weight),
    ParameterSegment(name: "fc.bias", offset: 6, shape: [3], role: .bias),
    ParameterSegment(name: "bn.weight", offset: 9, shape: [2], role: .normalization),
]

/// The optimizers of the reference cases, with the hyperparameters of CASES in optimizers.py.
private let factories: [String: @Sendable () -> any Optimizer] = [
    "sgd": { SGD(segments: segments) },
    "sgdMomentum": { SGD.withMomentum(segments: segments) },
    "sgdNesterov": { SGD.withMomentum(segments: segments, nesterov: true) },
    "sgdWeightDecay": { SGD(segments: segments, momentum: 0.9, weightDecay: 0.1) },
    "sgdWeightDecayExempt": {
        SGD(segments: segments, momentum: 0.9, weightDecay: 0.1, exemptBiasAndNormalization: true)
    },
    "adaGrad": { AdaGrad(segments: segments) },
    "adaGradOptions": {
        AdaGrad(segments: segments, learningRateDecay: 0.1, initialAccumulatorValue: 0.1, weightDecay: 0.1,
                exemptBiasAndNormalization: true)
    },
    "rmsProp": { RMSProp(segments: segments) },
    "rmsPropOptions": {
        RMSProp(segments: segments, alpha: 0.9, momentum: 0.9, centered: true, weightDecay: 0.1,
                exemptBiasAndNormalization: true)
    },
    "adam": { Adam(segments: segments) },
    "adamWeightDecay": { Adam(segments: segments, weightDecay: 0.1) },
    "adamWeightDecayExempt": { Adam(segments: segments, weightDecay: 0.1, exemptBiasAndNormalization: true) },
    "adamW": { AdamW(segments: segments) },
    "adamWExempt": { AdamW(segments: segments, weightDecay: 0.1, exemptBiasAndNormalization: true) },
    "lars": { LARS(segments: segments, trustCoefficient: 0.02, momentum: 0.9, weightDecay: 0.01) },
    "larsExempt": {
        LARS(segments: segments, trustCoefficient: 0.02, momentum: 0.9, weightDecay: 0.01,
             exemptBiasAndNormalization: true)
    },
]

private let caseNames = factories.keys.sorted()

/// Runs `optimizer` over `steps` of the reference gradients with the case's learning rates.
private func run(_ optimizer: any Optimizer, parameters: Tensor, steps: Range<Int>, rates: [Float]) {
    let gradients = Tensor(zeros: [parameters.count])
    for step in steps {
        gradients.copy(from: Tensor(shape: [parameters.count], values: OptimizerReferences.gradients[step]))
        optimizer.step(parameters: parameters, gradients: gradients, learningRate: rates[step])
    }
}

@Suite struct OptimizerTests {
    @Test func referenceTableCoversEveryOptimizerCase() {
        #expect(Set(caseNames) == Set(OptimizerReferences.cases.keys))
    }

    @Test(arguments: caseNames)
    func matchesReference(_ name: String) throws {
        let reference = try #require(OptimizerReferences.cases[name])
        let optimizer = factories[name]!()
        let parameters = Tensor(shape: [11], values: OptimizerReferences.initialParameters)
        var worst: Float = 0
        for step in reference.parameters.indices {
            run(optimizer, parameters: parameters, steps: step..<(step + 1), rates: reference.learningRates)
            let deviation = expectClose(parameters.scalars, reference.parameters[step], "\(name) step \(step + 1)")
            worst = max(worst, deviation.maxRelative)
        }
        let state = optimizer.state
        #expect(state.step == reference.parameters.count)
        #expect(Set(state.buffers.keys) == Set(reference.state.keys), "\(name): state buffer names")
        for (key, expected) in reference.state {
            let deviation = expectClose(state.buffers[key] ?? [], expected, "\(name) state \(key)")
            worst = max(worst, deviation.maxRelative)
        }
        print("\(name): OK against the reference, max difference relative to the largest value \(worst)")
    }

    @Test func gradientDescentWorkedExample() {
        // f(x) = e^-x + x^2, f'(x) = -e^-x + 2x, from x = -0.5 with eta 0.1.
        let segment = ParameterSegment(name: "x", offset: 0, shape: [1], role: .weight)
        let optimizer = SGD(segments: [segment])
        let x = Tensor(shape: [1], values: [-0.5])
        let gradient = Tensor(zeros: [1])
        func step() {
            gradient[0] = -exp(-x[0]) + 2 * x[0]
            optimizer.step(parameters: x, gradients: gradient, learningRate: 0.1)
        }
        for expected: Float in [-0.2351279, -0.0615952, 0.0570770] {
            step()
            #expect(abs(x[0] - expected) < 1e-6, "x = \(x[0]), expected \(expected)")
        }
        for _ in 0..<200 { step() }
        #expect(abs(x[0] - 0.3517337) < 1e-6, "x* = \(x[0])")
        #expect(abs(exp(-x[0]) + x[0] * x[0] - 0.8271840) < 1e-6)
    }

    /// SGD splits its runs over the compute threads: on 2 threads, over 300,000 parameters (several ranges, a
    /// decaying run and an exempt one), it gives the bits of the update written out element by element.
    @Test func sgdOnTwoThreadsKeepsTheElementwiseBits() {
        let n = 300_000, half = 150_000
        let split = [ParameterSegment(name: "w", offset: 0, shape: [half], role: .weight),
                     ParameterSegment(name: "b", offset: half, shape: [n - half], role: .bias)]
        let initial = (0..<n).map { Float(sin(Double($0) * 0.37)) }
        let gradients = (0..<2).map { step in (0..<n).map { Float(cos(Double($0 * (step + 2)) * 0.11)) } }
        let (lr, m, wd): (Float, Float, Float) = (0.1, 0.9, 0.01)
        var p = initial, buffer = [Float](repeating: 0, count: n)
        for (step, grad) in gradients.enumerated() {
            for i in 0..<n {
                let g = grad[i] + (i < half ? wd : 0) * p[i]
                buffer[i] = (step == 0 ? 0 : m) * buffer[i] + g
                p[i] -= lr * (g + m * buffer[i])
            }
        }
        let parameters = Tensor(shape: [n], values: initial)
        ComputeThreads.with(threads: 2) {
            let sgd = SGD(segments: split, momentum: m, nesterov: true, weightDecay: wd, exemptBiasAndNormalization: true)
            for grad in gradients {
                sgd.step(parameters: parameters, gradients: Tensor(shape: [n], values: grad), learningRate: lr)
            }
        }
        let differing = zip(parameters.scalars, p).filter { $0 != $1 }.count
        #expect(differing == 0, "\(differing) of \(n) parameters differ")
    }

    @Test func momentumDefaultsToTheCourseValue() {
        #expect(SGD.withMomentum(segments: segments).momentum == 0.9)
        #expect(SGD.withMomentum(segments: segments, nesterov: true).nesterov)
        #expect(AdamW(segments: segments).weightDecay == 0.01)
    }

    @Test(arguments: caseNames)
    func restoredStateContinuesBitwiseEqual(_ name: String) throws {
        let rates = try #require(OptimizerReferences.cases[name]).learningRates
        let original = factories[name]!()
        let parameters = Tensor(shape: [11], values: OptimizerReferences.initialParameters)
        run(original, parameters: parameters, steps: 0..<3, rates: rates)
        let saved = original.state
        let savedParameters = parameters.scalars
        run(original, parameters: parameters, steps: 3..<6, rates: rates)

        let resumed = factories[name]!()
        try resumed.restore(saved)
        #expect(resumed.state == saved)
        let resumedParameters = Tensor(shape: [11], values: savedParameters)
        run(resumed, parameters: resumedParameters, steps: 3..<6, rates: rates)
        #expect(resumedParameters.scalars == parameters.scalars, "\(name): parameters after resuming")
        #expect(resumed.state == original.state, "\(name): state after resuming")
    }

    @Test func restoreRejectsMismatchedStates() {
        let adam = Adam(segments: segments)
        let good = adam.state
        func message(_ state: OptimizerState) -> String? {
            do {
                try adam.restore(state)
                return nil
            } catch {
                return error.description
            }
        }
        var short = good
        short.buffers["exp_avg"] = [0, 0, 0]
        #expect(message(short) == "Adam state: buffer 'exp_avg' has 3 values, the model has 11 parameters")
        var missing = good
        missing.buffers["exp_avg_sq"] = nil
        #expect(message(missing) == "Adam state: buffer 'exp_avg_sq' is missing")
        var extra = good
        extra.buffers["momentum_buffer"] = Array(repeating: 0, count: 11)
        #expect(message(extra)
                == "Adam state: unexpected buffer 'momentum_buffer' (this optimizer keeps: 'exp_avg', 'exp_avg_sq')")
        var negative = good
        negative.step = -1
        #expect(message(negative) == "Adam state: step -1 is negative")
        let plain = SGD(segments: segments)
        #expect(throws: OptimizerStateError.unexpectedBuffer(optimizer: "SGD", name: "exp_avg", expected: [])) {
            try plain.restore(good)
        }
    }

    @Test func failedRestoreLeavesTheStateUntouched() throws {
        let optimizer = SGD.withMomentum(segments: segments)
        let parameters = Tensor(shape: [11], values: OptimizerReferences.initialParameters)
        run(optimizer, parameters: parameters, steps: 0..<2, rates: [0.1, 0.1])
        let before = optimizer.state
        var wrong = OptimizerState(step: 7, buffers: ["momentum_buffer": Array(repeating: 1, count: 11)])
        wrong.buffers["sum"] = Array(repeating: 1, count: 11)
        #expect(throws: OptimizerStateError.self) { try optimizer.restore(wrong) }
        #expect(optimizer.state == before)
    }
}
