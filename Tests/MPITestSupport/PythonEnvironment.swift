import Foundation

/// A Python that can import what a cross-check needs: python3 itself when it can, else a virtual environment of
/// the build directory (.build/python-NAME, made once and kept) with the packages installed from PyPI.
public enum PythonEnvironment {
    /// The interpreter's path; `modules` are what it must import, `packages` the pip requirements that bring them.
    public static func python(named name: String, importing modules: [String], packages: [String]) throws -> String {
        let check = "import " + modules.joined(separator: ", ")
        if try ChildProcess(executable: "/usr/bin/env", arguments: ["python3", "-c", check]).wait(timeout: .seconds(120)).status == 0 {
            return try ChildProcess(executable: "/usr/bin/env", arguments: ["python3", "-c", "import sys; print(sys.executable)"])
                .wait(timeout: .seconds(60)).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let venv = MPIRun.productsDirectory.deletingLastPathComponent().appendingPathComponent("python-\(name)").path
        let python = venv + "/bin/python"
        if FileManager.default.isExecutableFile(atPath: python),
           try ChildProcess(executable: python, arguments: ["-c", check]).wait(timeout: .seconds(120)).status == 0 {
            return python
        }
        let setup = try ChildProcess(executable: "/bin/bash", arguments: [
            "-c", "python3 -m venv \"$0\" && \"$0/bin/pip\" install -q \"$@\"", venv,
        ] + packages)
        // A line a minute: the suite's runner takes a test that prints nothing for minutes for a hung one.
        let start = ContinuousClock.now
        var lastLine = start
        let what = "installing \(packages.joined(separator: " ")) into \(venv)"
        while true {
            if let result = setup.exited() {
                guard result.status == 0 else { throw Failure(description: "\(what) failed: \(result.stderr)") }
                return python
            }
            if ContinuousClock.now - start > .seconds(1800) {
                setup.kill()
                throw Failure(description: "\(what) took more than 30 minutes")
            }
            if ContinuousClock.now - lastLine >= .seconds(60) {
                lastLine = .now
                print("\(what): \(Int((lastLine - start) / .seconds(1))) s so far")
            }
            usleep(100_000)
        }
    }

    /// Why no interpreter could be had.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }
}
