/// Where a model's passes spend their time, layer by layer: filled in by `Model.forward` and `Model.backward`
/// while it is set as the model's `profile`, and printed by `dtrain bench --profile`.
///
/// A layer's backward time holds its input gradient and its parameter gradients; a convolution also reports the
/// part its weight gradient took (`timeWeightGradient`), computing the two apart while it is profiled.
public final class LayerProfile: @unchecked Sendable {
    /// One layer: its module path, its kind and what it adds up to.
    public struct Row: Sendable {
        public let name: String, kind: String
        /// The row whose layer does this one's work in the same pass (a residual sum in its batch norm's), if any.
        public var fusedInto: String?
        public var forwardSeconds = 0.0, backwardSeconds = 0.0
        /// The part of `backwardSeconds` the weight gradient took, for layers that report it.
        public var weightGradientSeconds: Double?
    }

    /// The profile and row of the backward pass being timed on this thread, if any.
    @TaskLocal static var timedBackward: (profile: LayerProfile, row: Int)?

    /// Whether a backward pass is being timed (a layer then computes its weight gradient apart).
    public static var isTimingBackward: Bool { timedBackward != nil }

    /// Runs `body`, the weight gradient of the layer whose backward pass is being timed, adding its time to that
    /// layer's row.
    public static func timeWeightGradient(_ body: () -> Void) {
        guard let (profile, row) = timedBackward else { return body() }
        let start = ContinuousClock.now
        body()
        let elapsed = (ContinuousClock.now - start) / .seconds(1)
        profile.rows[row].weightGradientSeconds = (profile.rows[row].weightGradientSeconds ?? 0) + elapsed
    }

    public private(set) var rows: [Row]
    /// Forward passes timed.
    public private(set) var passes = 0
    /// The optimizer's updates, which the trainer adds (`addUpdate`).
    public private(set) var updateSeconds = 0.0

    /// A profile of `model`'s layers, one row per graph entry.
    public init(model: Model) {
        let entries = model.graph.entries
        rows = entries.map { Row(name: $0.name, kind: String(describing: type(of: $0.layer))) }
        for (entry, row) in model.fusedEntries { rows[entry].fusedInto = entries[row].name }
    }

    func addForward(_ index: Int, _ seconds: Double) {
        rows[index].forwardSeconds += seconds
        if index == rows.count - 1 { passes += 1 }
    }

    func addBackward(_ index: Int, _ seconds: Double) { rows[index].backwardSeconds += seconds }

    /// Adds one optimizer update's time.
    public func addUpdate(_ seconds: Double) { updateSeconds += seconds }

    /// The rows as a table in milliseconds per step, with the share of `stepSeconds` (a whole step's time) each
    /// takes, followed by the optimizer's update and `extra` rows (communication, data) given in seconds per step.
    public func table(stepSeconds: Double, extra: [(String, Double)]) -> String {
        let steps = Double(max(passes, 1))
        var lines = [pad("layer", 24) + pad("kind", 16) + pad("forward ms", 12, right: true)
                        + pad("backward ms", 13, right: true) + pad("of it weights", 15, right: true)
                        + pad("share", 8, right: true)]
        func line(_ name: String, _ kind: String, _ forward: Double?, _ backward: Double, _ weights: Double? = nil) {
            let total = (forward ?? 0) + backward
            lines.append(pad(name, 24) + pad(kind, 16) + pad(forward.map(milliseconds) ?? "", 12, right: true)
                            + pad(milliseconds(backward), 13, right: true)
                            + pad(weights.map(milliseconds) ?? "", 15, right: true)
                            + pad(percent(total / stepSeconds), 8, right: true))
        }
        for row in rows {
            if let fusedInto = row.fusedInto {
                lines.append(pad(row.name, 24) + pad(row.kind, 16) + "in \(fusedInto)'s pass")
                continue
            }
            line(row.name, row.kind, row.forwardSeconds / steps, row.backwardSeconds / steps,
                 row.weightGradientSeconds.map { $0 / steps })
        }
        let layers = rows.reduce(0) { $0 + ($1.forwardSeconds + $1.backwardSeconds) / steps }
        let extra = [("optimizer update", updateSeconds / steps)] + extra
        for (name, seconds) in extra { line(name, "", nil, seconds) }
        let other = stepSeconds - layers - extra.reduce(0) { $0 + $1.1 }
        line("other (loss, data, glue)", "", nil, max(other, 0))
        lines.append(pad("step", 40) + pad(milliseconds(stepSeconds), 25, right: true))
        return lines.joined(separator: "\n")
    }

    private func milliseconds(_ seconds: Double) -> String {
        let value = (seconds * 1e5).rounded() / 100
        return "\(value)"
    }

    private func percent(_ fraction: Double) -> String { "\((fraction * 1000).rounded() / 10)%" }

    private func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let padding = String(repeating: " ", count: max(width - text.count, 1))
        return right ? padding + text : text + padding
    }
}
