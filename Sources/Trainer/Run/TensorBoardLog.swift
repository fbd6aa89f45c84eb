import Foundation
import TensorBoard

/// The run's metrics as TensorBoard event files in `<out_dir>/tensorboard/`: every metrics record's numbers as
/// scalars at its global step (`train/loss`, `train/lr`, `train/communication_ms`, `validation/top1`, ...) and the
/// resolved config as text. Rank 0 alone keeps one.
///
/// The file is created with the first record, so commands that set a run up without training (bench) leave none.
public final class TensorBoardLog {
    private let directory: String
    private let configText: String
    private var writer: EventFileWriter?
    private var failed = false

    /// A log into `directory` that starts with `configText`.
    public init(directory: String, configText: String) {
        self.directory = directory
        self.configText = configText
    }

    /// Adds a metrics record (`type` "train" or "eval", `global_step`, numbers) as scalars under `train/` or
    /// `validation/`. Counters (epoch, step, samples) are not plotted. A failed write is reported once and training
    /// goes on, as for the other logs.
    public func record(_ fields: [(String, Any)]) {
        guard !failed else { return }
        let type = fields.first { $0.0 == "type" }?.1 as? String
        let step = fields.first { $0.0 == "global_step" }?.1 as? Int ?? 0
        let prefix = type == "eval" ? "validation/" : "\(type ?? "metrics")/"
        let scalars = fields.compactMap { key, value -> (tag: String, value: Float)? in
            switch value {
            case let number as Double: (prefix + key, Float(number))
            case let number as Float: (prefix + key, number)
            default: nil
            }
        }
        do {
            if writer == nil {
                let created = try EventFileWriter(directory: directory)
                try created.addText("```\n" + configText + "```\n", tag: "config", step: 0)
                writer = created
            }
            try writer!.addScalars(scalars, step: step)
        } catch {
            failed = true
            RunLog.write("dtrain: could not write TensorBoard events in \(directory): \(error); training goes on\n")
        }
    }
}
