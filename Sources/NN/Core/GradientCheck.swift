import Engine

/// Compares analytic gradients with centred finite differences, (L(x + h) - L(x - h)) / 2h.
///
/// The network computes in Float32, so the loss of each perturbed forward pass is summed in Double and divided by
/// the perturbation actually applied (x + h and x - h rounded to Float), which leaves only the forward pass's own
/// rounding and the O(h^2) truncation as the difference between the two gradients.
public enum GradientCheck {
    /// The agreement for one tensor.
    public struct Result: Sendable, CustomStringConvertible {
        /// What was checked (`input 0`, `weight`).
        public let name: String
        /// The largest |analytic - numerical| / max(|analytic|, |numerical|, floor) over the checked elements.
        public let worstRelativeError: Double
        /// The element where the worst error occurred, with both values.
        public let worstIndex: Int, analytic: Double, numerical: Double
        /// How many elements were checked.
        public let checked: Int
        /// How many elements were skipped because the loss has a kink within h of them.
        public let skipped: Int

        public var description: String {
            "\(name): worst relative error \(worstRelativeError) at \(worstIndex) (analytic \(analytic), numerical \(numerical)), \(checked) elements, \(skipped) at kinks"
        }
    }

    /// Checks every element of `values` (or an evenly spread subset of `maxElements`) against `analytic`, the
    /// gradient of `loss` with respect to `values`; `loss` recomputes the loss from the current `values`.
    ///
    /// The relative error's floor is the larger of 1e-3 of the largest analytic gradient and the loss's own
    /// float noise (1e-6 |L| / h), so elements whose gradient is essentially zero are judged against the tensor's
    /// scale rather than against zero.
    public static func compare(_ name: String, values: Tensor, analytic: Tensor, step: Float,
                               maxElements: Int = 200, loss: () -> Double) -> Result {
        precondition(values.count == analytic.count, "GradientCheck: \(values.count) values, \(analytic.count) gradients")
        let stride = max(1, values.count / max(maxElements, 1))
        var largest = 0.0
        for i in 0..<analytic.count { largest = max(largest, abs(Double(analytic.pointer[i]))) }
        let baseline = loss()
        let floor = max(1e-3 * largest, 1e-6 * abs(baseline) / Double(step), 1e-12)
        var worst = (error: 0.0, index: 0, analytic: 0.0, numerical: 0.0)
        var checked = 0, skipped = 0
        for i in Swift.stride(from: 0, to: values.count, by: stride) {
            let original = values.pointer[i]
            let plus = original + step, minus = original - step
            values.pointer[i] = plus
            let lossPlus = loss()
            values.pointer[i] = minus
            let lossMinus = loss()
            values.pointer[i] = original
            let forward = (lossPlus - baseline) / (Double(plus) - Double(original))
            let backward = (baseline - lossMinus) / (Double(original) - Double(minus))
            if abs(forward - backward) > 0.1 * max(abs(forward), abs(backward), floor) {
                skipped += 1
                continue
            }
            let numerical = (lossPlus - lossMinus) / (Double(plus) - Double(minus))
            let exact = Double(analytic.pointer[i])
            let error = abs(exact - numerical) / max(abs(exact), abs(numerical), floor)
            if error > worst.error { worst = (error, i, exact, numerical) }
            checked += 1
        }
        return Result(name: name, worstRelativeError: worst.error, worstIndex: worst.index,
                      analytic: worst.analytic, numerical: worst.numerical, checked: checked, skipped: skipped)
    }

    /// Checks a layer's input and parameter gradients for the loss sum(projection * output).
    ///
    /// Parameters are drawn with the layer's own initializers from `seed`; `projection` fixes the loss, so a layer
    /// whose output is linear in a value gets a loss exactly linear in it too.
    public static func check(layer: any Layer, inputs: [Tensor], context: ForwardContext, step: Float,
                             seed: UInt64 = 1, maxElements: Int = 200) -> [Result] {
        let parameters = layer.parameterSpecs.enumerated().map { index, spec in
            let tensor = Tensor(zeros: spec.shape)
            spec.initializer.fill(tensor, seed: seed, stream: UInt64(index))
            return tensor
        }
        // Scale and shift parameters start at exactly 1 and 0; perturb them so their gradients are not special.
        for (spec, tensor) in zip(layer.parameterSpecs, parameters) where spec.role == .normalization {
            Philox(seed: seed).fillUniform(tensor.pointer, count: tensor.count, stream: 1000 + UInt64(tensor.count))
            for i in 0..<tensor.count { tensor.pointer[i] = 0.5 + tensor.pointer[i] }
        }
        let gradients = layer.parameterSpecs.map { Tensor(zeros: $0.shape) }
        let buffers = layer.bufferSpecs.map { spec -> Tensor in
            let tensor = Tensor(zeros: spec.shape)
            tensor.fill(spec.initialValue)
            return tensor
        }
        layer.bind(parameters: parameters, gradients: gradients, buffers: buffers)

        let output = layer.forward(inputs, context: context)
        let projection = Tensor(zeros: output.shape)
        Philox(seed: seed).fillNormal(projection.pointer, count: projection.count, stream: 999)
        let inputGradients = layer.backward(projection, needsInputGradient: true).map { copy in
            let kept = Tensor(zeros: copy.shape)
            kept.copy(from: copy)
            return kept
        }
        let loss = { () -> Double in
            let y = layer.forward(inputs, context: context)
            var total = 0.0
            for i in 0..<y.count { total += Double(projection.pointer[i]) * Double(y.pointer[i]) }
            return total
        }
        var results: [Result] = []
        for (index, (input, gradient)) in zip(inputs, inputGradients).enumerated() {
            results.append(compare("input \(index)", values: input, analytic: gradient, step: step,
                                   maxElements: maxElements, loss: loss))
        }
        for (spec, (parameter, gradient)) in zip(layer.parameterSpecs, zip(parameters, gradients)) {
            results.append(compare(spec.name, values: parameter, analytic: gradient, step: step,
                                   maxElements: maxElements, loss: loss))
        }
        return results
    }

    /// Checks the gradient of every parameter tensor of `model` for the mean cross-entropy of `input` against
    /// `labels`, `maxElements` elements per tensor evenly spread; `context` fixes dropout's draws, so every forward
    /// pass computes the same function.
    public static func check(model: Model, input: Tensor, labels: [Int], context: ForwardContext, step: Float,
                             maxElements: Int = 200) -> [Result] {
        let batch = labels.count
        let gradient = Tensor(zeros: [batch] + model.outputShape)
        let loss = { () -> Double in
            let logits = model.forward(input, context: context)
            return SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels, normalizer: batch, gradient: gradient)
                / Double(batch)
        }
        model.zeroGradients()
        _ = loss()
        model.backward(gradient)
        let analytic = Tensor(zeros: [model.parameterCount])
        analytic.copy(from: model.gradients)
        return model.parameterSegments.map { segment in
            compare(segment.name, values: model.parameter(named: segment.name)!,
                    analytic: Tensor(storage: analytic.storage, offset: segment.offset, shape: segment.shape),
                    step: step, maxElements: maxElements, loss: loss)
        }
    }
}
