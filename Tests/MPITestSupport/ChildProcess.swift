import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain program (no mpirun) started by a test, which the test waits for or kills.
///
///     let child = try ChildProcess(executable: try MPIRun.product(named: "dtrain"), arguments: ["inspect", path])
///     let result = try child.wait(timeout: .seconds(30))
public final class ChildProcess {
    /// The command line, for messages.
    public let command: String
    /// The process id.
    public let pid: pid_t
    private let stdoutPath: String, stderrPath: String
    private let start = ContinuousClock.now
    private var finished = false

    /// Starts `executable` in a process group of its own, with standard output and error going to temporary files
    /// and every signal at its default disposition.
    ///
    /// The environment is `environment`, by default this process's without the variables an MPI job sets for its
    /// own processes (so that a child that starts MPI becomes a singleton of its own, not a rank of a job this
    /// process may belong to).
    public init(executable: String, arguments: [String] = [], environment: [String: String]? = nil) throws {
        let argv = [executable] + arguments
        command = argv.joined(separator: " ")
        let outputs = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString)")
        stdoutPath = outputs.path + ".out"
        stderrPath = outputs.path + ".err"
        let variables = environment ?? ProcessInfo.processInfo.environment.filter { !MPIRun.isSetByMPIJob($0.key) }
        pid = try MPIRun.spawn(argv, variables.map { "\($0.key)=\($0.value)" }, stdout: stdoutPath, stderr: stderrPath,
                               command: command)
    }

    deinit {
        if !finished { kill() }
        try? FileManager.default.removeItem(atPath: stdoutPath)
        try? FileManager.default.removeItem(atPath: stderrPath)
    }

    /// The process's result if it has exited, without waiting.
    public func exited() -> MPIRun.Result? {
        var raw: Int32 = 0
        guard !finished, waitpid(pid, &raw, WNOHANG) == pid else { return nil }
        finished = true
        return MPIRun.Result(status: MPIRun.decode(raw), stdout: stdout, stderr: MPIRun.read(stderrPath),
                             seconds: (ContinuousClock.now - start) / .seconds(1))
    }

    /// What the process has written to standard output so far.
    public var stdout: String { MPIRun.read(stdoutPath) }

    /// Kills the process and everything it started with SIGKILL (no chance to clean up, as a power cut or the OOM
    /// killer) and reaps it.
    public func kill() {
        guard !finished else { return }
        // Collected before anything dies, so that orphans re-parented elsewhere are still found.
        let tree = JobProcesses.descendants(of: pid)
        Glibc.kill(-pid, SIGKILL)
        tree.forEach { Glibc.kill($0, SIGKILL) }
        var raw: Int32 = 0
        waitpid(pid, &raw, 0)
        finished = true
    }

    /// Waits up to `timeout` from now for the process to exit; kills it and throws `MPIRun.Failure.timedOut` then.
    public func wait(timeout: Duration = .seconds(60)) throws -> MPIRun.Result {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let result = exited() { return result }
            usleep(5_000)
        }
        kill()
        throw MPIRun.Failure.timedOut(command: command, limit: timeout, stdout: stdout, stderr: MPIRun.read(stderrPath))
    }
}
