import Testing

/// One optimizer's reference run: learning rates, parameters after every step, state buffers after the last.
struct OptimizerReference {
    let learningRates: [Float]
    let parameters: [[Float]]
    let state: [String: [Float]]
}

/// How far `actual` is from `expected`, element by element.
///
/// An element passes when |actual - expected| <= tolerance * (|expected| + 0.1 * scale), where scale is the
/// largest expected magnitude: relative per element, with a floor for elements that cancel toward zero, where
/// Float32 rounding of the larger terms that produced them is all that is left.
struct Deviation {
    /// The largest absolute difference.
    let maxAbsolute: Float
    /// The largest absolute difference relative to the largest expected magnitude.
    let maxRelative: Float
    /// The indices outside the tolerance.
    let failing: [Int]

    init(_ actual: [Float], _ expected: [Float], relativeTolerance: Float) {
        precondition(actual.count == expected.count, "Deviation: \(actual.count) values against \(expected.count)")
        let scale = expected.reduce(0) { max($0, abs($1)) }
        var maxAbsolute: Float = 0, failing: [Int] = []
        for i in actual.indices {
            let difference = abs(actual[i] - expected[i])
            maxAbsolute = max(maxAbsolute, difference)
            if !(difference <= relativeTolerance * (abs(expected[i]) + 0.1 * scale)) { failing.append(i) }
        }
        self.maxAbsolute = maxAbsolute
        self.maxRelative = scale > 0 ? maxAbsolute / scale : maxAbsolute
        self.failing = failing
    }
}

/// Expects `actual` to match `expected` within `relativeTolerance`, reporting the first differing elements and
/// the max difference when it does not; returns the deviation for summaries.
@discardableResult
func expectClose(_ actual: [Float], _ expected: [Float], relativeTolerance: Float = 1e-6, _ label: String,
                 sourceLocation: SourceLocation = #_sourceLocation) -> Deviation {
    guard actual.count == expected.count else {
        Issue.record("\(label): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
        return Deviation([], [], relativeTolerance: relativeTolerance)
    }
    let deviation = Deviation(actual, expected, relativeTolerance: relativeTolerance)
    if !deviation.failing.isEmpty {
        let first = deviation.failing.prefix(5).map { "[\($0)] \(actual[$0]) vs \(expected[$0])" }
        Issue.record("""
            \(label): \(deviation.failing.count) of \(actual.count) elements differ; first: \(first.joined(separator: ", ")); \
            max abs diff \(deviation.maxAbsolute), max rel diff \(deviation.maxRelative)
            """, sourceLocation: sourceLocation)
    }
    return deviation
}
