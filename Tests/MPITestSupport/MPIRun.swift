import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program under mpirun with a time limit, so that tests can check multi-rank behaviour.
///
/// A run that outlives its time limit is killed with all its processes and reported as `MPIRun.Failure.timedOut`:
/// a hang fails the test instead of blocking CI. A missing mpirun is an error too, never a skipped test.
///
///     let check = try MPIRun.product(named: "dtrain-comm-check")
///     let result = try MPIRun.run(executable: check, arguments: ["allreduce"], ranks: 2)
///     #expect(result.status == 0, "\(result.stderr)")
public enum MPIRun {
    /// What a finished run left behind.
    public struct Result: Sendable {
        /// mpirun's exit status, or 128 + the signal number if a signal ended it (as shells report it).
        public var status: Int32
        /// Everything the ranks and mpirun wrote to standard output.
        public var stdout: String
        /// Everything the ranks and mpirun wrote to standard error.
        public var stderr: String
        /// Wall-clock time from start to exit.
        public var seconds: Double
    }

    /// Why a run could not start or did not end.
    public enum Failure: Error, CustomStringConvertible {
        /// No `mpirun` in any directory of the search path.
        case mpirunNotFound(searchPath: String)
        /// The program to run has not been built.
        case productMissing(path: String)
        /// posix_spawn refused to start mpirun.
        case spawnFailed(command: String, errno: Int32)
        /// The run did not end within its time limit; all its processes were killed.
        case timedOut(command: String, limit: Duration, stdout: String, stderr: String)

        /// One paragraph that says what to do.
        public var description: String {
            switch self {
            case let .mpirunNotFound(searchPath):
                "mpirun not found on PATH (\(searchPath)): install Open MPI's launcher with "
                    + "`apt-get install -y openmpi-bin`; multi-rank tests must run, not be skipped"
            case let .productMissing(path):
                "\(path) does not exist: build the package with `swift build --build-tests` first"
            case let .spawnFailed(command, errno):
                "cannot start \(command): \(String(cString: strerror(errno)))"
            case let .timedOut(command, limit, stdout, stderr):
                "\(command) did not end within \(limit) and was killed (a hang, e.g. ranks in mismatched "
                    + "collectives)\n--- stdout ---\n\(stdout)\n--- stderr ---\n\(stderr)"
            }
        }
    }

    /// Runs `mpirun --allow-run-as-root --oversubscribe -n ranks executable arguments...` and waits for it.
    ///
    /// The ranks inherit this process's environment, without the variables an MPI job sets for its own processes
    /// (a test process that initialised MPI as a singleton carries them, and they would confuse the new mpirun),
    /// with OPENBLAS_NUM_THREADS=1 (oversubscribed ranks are not bound, and each would start a BLAS thread per core),
    /// and then with `environment` on top.
    public static func run(
        executable: String, arguments: [String] = [], ranks: Int, timeout: Duration = .seconds(60),
        environment: [String: String] = [:]
    ) throws -> Result {
        let mpirun = try locateMPIRun()
        let argv = [mpirun, "--allow-run-as-root", "--oversubscribe", "-n", String(ranks), executable] + arguments
        var variables = ProcessInfo.processInfo.environment.filter { !isSetByMPIJob($0.key) }
        variables["OPENBLAS_NUM_THREADS"] = "1"
        variables.merge(environment) { _, new in new }
        let command = argv.joined(separator: " ")

        let outputs = FileManager.default.temporaryDirectory.appendingPathComponent("mpirun-\(UUID().uuidString)")
        let stdoutPath = outputs.path + ".out", stderrPath = outputs.path + ".err"
        defer {
            try? FileManager.default.removeItem(atPath: stdoutPath)
            try? FileManager.default.removeItem(atPath: stderrPath)
        }
        let start = ContinuousClock.now
        let pid = try spawn(argv, variables.map { "\($0.key)=\($0.value)" }, stdout: stdoutPath, stderr: stderrPath,
                            command: command)
        let status = wait(for: pid, until: start + timeout)
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        let stdout = read(stdoutPath), stderr = read(stderrPath)
        guard let status else {
            throw Failure.timedOut(command: command, limit: timeout, stdout: stdout, stderr: stderr)
        }
        return Result(status: status, stdout: stdout, stderr: stderr, seconds: seconds)
    }

    /// The path of an executable of this package, built next to the running test binary.
    public static func product(named name: String) throws -> String {
        let path = productsDirectory.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else { throw Failure.productMissing(path: path) }
        return path
    }

    /// The build directory (.build/<configuration>) that holds the test binary and the package's executables.
    static var productsDirectory: URL {
        // The test runner is .build/<configuration>/<package>PackageTests.xctest on Linux; on macOS the binary
        // sits inside the .xctest bundle, whose parent is the build directory.
        let binary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        var url = URL(fileURLWithPath: binary).resolvingSymlinksInPath().deletingLastPathComponent()
        while url.path.contains(".xctest") { url.deleteLastPathComponent() }
        return url
    }

    /// The first `mpirun` on `searchPath` (PATH by default).
    public static func locateMPIRun(searchPath: String = ProcessInfo.processInfo.environment["PATH"] ?? "") throws -> String {
        for directory in searchPath.split(separator: ":") {
            let candidate = "\(directory)/mpirun"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw Failure.mpirunNotFound(searchPath: searchPath)
    }

    /// Whether an MPI job put `name` into its processes' environment (PMIx and ORTE wiring, singleton markers),
    /// as opposed to a user's OMPI_MCA_ setting, which is kept.
    static func isSetByMPIJob(_ name: String) -> Bool {
        if name.hasPrefix("PMIX_") || name.hasPrefix("ORTE_") { return true }
        guard name.hasPrefix("OMPI_") else { return false }
        let userSettings = name.hasPrefix("OMPI_MCA_") || name.hasPrefix("OMPI_ALLOW_RUN_AS_ROOT")
        let jobSettings = ["OMPI_MCA_ess", "OMPI_MCA_orte_", "OMPI_MCA_pmix", "OMPI_MCA_initial_wdir"]
        return !userSettings || jobSettings.contains { name.hasPrefix($0) }
    }

    /// Starts `argv` in a process group of its own, so that a timeout can signal mpirun and everything under it.
    static func spawn(
        _ argv: [String], _ environment: [String], stdout: String, stderr: String, command: String
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Files rather than pipes: nothing has to drain them while the run is going, so nothing can block.
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var everySignal = sigset_t(), noSignal = sigset_t()
        sigfillset(&everySignal)
        sigemptyset(&noSignal)
        posix_spawnattr_setsigdefault(&attributes, &everySignal)
        posix_spawnattr_setsigmask(&attributes, &noSignal)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF
            | POSIX_SPAWN_SETSIGMASK))

        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = environment.map { strdup($0) } + [nil]
        defer { (cArguments + cEnvironment).forEach { free($0) } }
        var pid = pid_t()
        let result = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, cEnvironment)
        guard result == 0 else { throw Failure.spawnFailed(command: command, errno: result) }
        return pid
    }

    /// Waits for `pid` to exit and returns its status, or kills its whole process tree at `deadline` and returns nil.
    private static func wait(for pid: pid_t, until deadline: ContinuousClock.Instant) -> Int32? {
        var raw: Int32 = 0
        while ContinuousClock.now < deadline {
            if waitpid(pid, &raw, WNOHANG) == pid { return decode(raw) }
            usleep(10_000)
        }
        // mpirun starts the ranks in process groups of their own, so the tree is collected before anything dies
        // (orphans would be re-parented and lost). SIGTERM first lets mpirun tear the job down itself.
        let tree = JobProcesses.descendants(of: pid)
        kill(-pid, SIGTERM)
        tree.forEach { kill($0, SIGTERM) }
        let grace = ContinuousClock.now + .seconds(3)
        while ContinuousClock.now < grace, waitpid(pid, &raw, WNOHANG) != pid { usleep(10_000) }
        kill(-pid, SIGKILL)
        tree.forEach { kill($0, SIGKILL) }
        waitpid(pid, &raw, 0)
        return nil
    }

    /// Exit code of a normal exit, or 128 + signal number (WIFEXITED and friends are macros Swift cannot import).
    static func decode(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }

    static func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }
}
