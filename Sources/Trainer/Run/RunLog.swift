import Foundation

/// What rank 0 tells the person running the job: log lines on stdout and one JSON record per logged step or
/// evaluation in `<out_dir>/metrics.jsonl`, and the same records in TensorBoard's format. Every other rank stays
/// silent.
public final class RunLog {
    private let enabled: Bool
    private let metrics: FileHandle?
    private let tensorBoard: TensorBoardLog?
    private let interactive: Bool
    private var progressShown = false
    private var lastProgress = Date.distantPast

    /// A log that writes only when `enabled` (rank 0), with metrics appended to `metricsPath` and given to
    /// `tensorBoard` when given.
    public init(enabled: Bool, metricsPath: String?, tensorBoard: TensorBoardLog? = nil) throws(TrainerError) {
        self.enabled = enabled
        self.tensorBoard = enabled ? tensorBoard : nil
        // Under mpirun a rank's stdout is a pseudo-terminal even when mpirun's own output goes to a file, so the bar
        // is drawn only in a single-process run on a terminal.
        let underMPIRun = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil
            || ProcessInfo.processInfo.environment["PMI_SIZE"] != nil
        interactive = enabled && !underMPIRun && isatty(STDOUT_FILENO) != 0
        guard enabled, let metricsPath else {
            metrics = nil
            return
        }
        if !FileManager.default.fileExists(atPath: metricsPath) {
            _ = FileManager.default.createFile(atPath: metricsPath, contents: nil)
        }
        guard let handle = FileHandle(forWritingAtPath: metricsPath) else {
            throw .invalid("cannot write metrics file \(metricsPath)")
        }
        handle.seekToEndOfFile()
        metrics = handle
    }

    /// Prints a line (rank 0 only).
    public func line(_ text: String) {
        guard enabled else { return }
        clearProgress()
        RunLog.write(text + "\n")
    }

    /// Appends one JSON object to the metrics file (and the record to the TensorBoard log).
    public func record(_ fields: [(String, Any)]) {
        tensorBoard?.record(fields)
        guard let metrics else { return }
        let body = fields.map { key, value -> String in
            let rendered: String
            switch value {
            case let text as String: rendered = "\"\(text)\""
            case let number as Double: rendered = number.isFinite ? String(number) : "null"
            case let number as Float: rendered = number.isFinite ? String(number) : "null"
            default: rendered = "\(value)"
            }
            return "\"\(key)\": \(rendered)"
        }.joined(separator: ", ")
        metrics.write(("{" + body + "}\n").data(using: .utf8)!)
    }

    /// Redraws a one-line progress bar, at most twice a second, when stdout is a terminal.
    public func progress(fraction: Double, text: String) {
        guard interactive, Date().timeIntervalSince(lastProgress) >= 0.5 else { return }
        lastProgress = Date()
        let width = 30
        let filled = max(0, min(width, Int(fraction * Double(width))))
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        RunLog.write("\r[\(bar)] \(String(format: "%3.0f", 100 * fraction))% \(text)\u{1B}[K")
        progressShown = true
    }

    /// Writes to stdout, ignoring failures: a closed terminal or pipe must not stop training.
    ///
    /// Once a stop signal arrived, stdout is made non-blocking: mpirun stops reading the ranks' output while it
    /// shuts a job down, and a log line must not keep the checkpoint that follows from being written.
    static func write(_ text: String) {
        if StopSignal.pending != 0 {
            _ = fcntl(STDOUT_FILENO, F_SETFL, fcntl(STDOUT_FILENO, F_GETFL) | O_NONBLOCK)
        }
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(STDOUT_FILENO, $0.baseAddress, $0.count) }
    }

    private func clearProgress() {
        guard progressShown else { return }
        RunLog.write("\r\u{1B}[K")
        progressShown = false
    }
}
