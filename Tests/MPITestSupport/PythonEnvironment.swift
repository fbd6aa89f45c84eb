import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A Python that can import what a cross-check needs: python3 itself when it can, else a virtual environment with
/// the packages installed from PyPI, made once per machine in ~/.cache/dtrain/python-NAME and kept, so that later
/// runs and fresh clones (CI) use it instead of installing again.
public enum PythonEnvironment {
    /// The interpreter's path; `modules` are what it must import, `packages` the pip requirements that bring them.
    public static func python(named name: String, importing modules: [String], packages: [String]) throws -> String {
        let check = "import " + modules.joined(separator: ", ")
        if try ChildProcess(executable: "/usr/bin/env", arguments: ["python3", "-c", check]).wait(timeout: .seconds(120)).status == 0 {
            return try ChildProcess(executable: "/usr/bin/env", arguments: ["python3", "-c", "import sys; print(sys.executable)"])
                .wait(timeout: .seconds(60)).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let environment = ProcessInfo.processInfo.environment
        let cache = (environment["XDG_CACHE_HOME"] ?? ((environment["HOME"] ?? NSTemporaryDirectory()) + "/.cache")) + "/dtrain"
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        let venv = cache + "/python-\(name)", python = venv + "/bin/python"
        // Test runs on the same machine at the same time take turns, so none uses a half-made environment.
        let lock = open(venv + ".lock", O_CREAT | O_RDWR, 0o644)
        guard lock >= 0, flock(lock, LOCK_EX) == 0 else { throw Failure(description: "cannot lock \(venv).lock") }
        defer { close(lock) }
        // The requirements it was made with: an environment made for other pins is made again.
        let made = venv + "/dtrain-requirements.txt", requirements = packages.joined(separator: "\n")
        if (try? String(contentsOfFile: made, encoding: .utf8)) == requirements,
           try ChildProcess(executable: python, arguments: ["-c", check]).wait(timeout: .seconds(120)).status == 0 {
            return python
        }
        try? FileManager.default.removeItem(atPath: venv)
        let setup = try ChildProcess(executable: "/bin/bash", arguments: [
            "-c", "python3 -m venv \"$0\" && \"$0/bin/python\" -m pip install -q \"$@\"", venv,
        ] + packages)
        try wait(for: setup, installing: "\(packages.joined(separator: " ")) into \(venv)")
        try requirements.write(toFile: made, atomically: true, encoding: .utf8)
        return python
    }

    /// Waits for pip, printing a line a minute: the suite's runner takes a test that prints nothing for minutes
    /// for a hung one.
    private static func wait(for setup: ChildProcess, installing what: String) throws {
        let start = ContinuousClock.now
        var lastLine = start
        while true {
            if let result = setup.exited() {
                guard result.status == 0 else { throw Failure(description: "installing \(what) failed: \(result.stderr)") }
                return
            }
            if ContinuousClock.now - start > .seconds(1800) {
                setup.kill()
                throw Failure(description: "installing \(what) took more than 30 minutes")
            }
            if ContinuousClock.now - lastLine >= .seconds(60) {
                lastLine = .now
                print("installing \(what): \(Int((lastLine - start) / .seconds(1))) s so far")
            }
            usleep(100_000)
        }
    }

    /// Why no interpreter could be had.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }
}
