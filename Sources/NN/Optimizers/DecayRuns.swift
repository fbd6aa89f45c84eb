import Engine

/// The flat parameter buffer cut into maximal runs that either all take weight decay or all skip it.
///
/// Optimizers loop over each run with a constant decay coefficient, so the inner loops stay branch-free and
/// contiguous instead of reading a per-element mask.
struct DecayRuns: Sendable {
    /// Contiguous elements that share whether weight decay applies.
    struct Run: Sendable {
        /// The elements' range in the flat buffers.
        let range: Range<Int>
        /// Whether weight decay applies to them.
        let decays: Bool
    }

    /// The runs in order, covering `0..<count`.
    let runs: [Run]
    /// The number of elements of the flat buffers (the end of the last segment).
    let count: Int

    /// Runs for `segments`; with `exemptingBiasAndNormalization`, only segments whose role decays take decay.
    ///
    /// Elements between segments (alignment padding) belong to no parameter and never decay.
    init(segments: [ParameterSegment], exemptingBiasAndNormalization: Bool) {
        let ordered = segments.sorted { $0.offset < $1.offset }
        var runs: [Run] = []
        var end = 0
        func append(_ range: Range<Int>, decays: Bool) {
            guard !range.isEmpty else { return }
            if let last = runs.last, last.decays == decays, last.range.upperBound == range.lowerBound {
                runs[runs.count - 1] = Run(range: last.range.lowerBound..<range.upperBound, decays: decays)
            } else {
                runs.append(Run(range: range, decays: decays))
            }
        }
        for segment in ordered {
            precondition(segment.offset >= end,
                         "Optimizer: parameter '\(segment.name)' at \(segment.offset) overlaps the one before it")
            append(end..<segment.offset, decays: false)
            append(segment.range, decays: !exemptingBiasAndNormalization || segment.role.decaysWhenExempting)
            end = segment.range.upperBound
        }
        self.runs = runs
        self.count = end
    }

    /// Stops with a clear message unless both buffers have exactly the segments' element count.
    func check(parameters: Tensor, gradients: Tensor, optimizer: String) {
        precondition(parameters.count == count && gradients.count == count,
                     "\(optimizer): \(parameters.count) parameters and \(gradients.count) gradients, segments hold \(count)")
    }
}
