import Foundation

/// Chooses OpenBLAS's kernel family (its "core type") for the running CPU by measurement, before the library
/// initialises, because OpenBLAS 0.3.21 does not know the newest CPUs and may pick a slower family than one the
/// CPU can run (on Zen 5 its AVX2 Zen kernels, at half the sgemm speed of its SkylakeX ones).
///
/// OpenBLAS reads `OPENBLAS_CORETYPE` once, when the library loads, so the choice is made by re-executing the
/// program with the variable set. The candidates are the families whose instructions /proc/cpuinfo reports (plus
/// OpenBLAS's own choice), so a forced family can never use an instruction the CPU lacks; each is timed on an
/// sgemm in a child process, and the winner is remembered per CPU model, flags and OpenBLAS build in
/// `~/.cache/dtrain/openblas-core` so that later starts cost nothing. A user's own `OPENBLAS_CORETYPE` is left
/// alone.
public enum BLASKernelChoice {
    /// Set in the children that time one candidate.
    static let probeVariable = "DTRAIN_OPENBLAS_PROBE"
    /// Set once the choice is made, so that the re-executed program does not choose again.
    static let chosenVariable = "DTRAIN_OPENBLAS_CHOSEN"

    /// Kernel families whose instruction sets the CPU reports, fastest kinds first; OpenBLAS's own pick (the empty
    /// name) is always a candidate.
    public static func candidates(flags: Set<String>, vendor: String) -> [String] {
        var families: [String] = []
        let avx512 = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains)
        if avx512 && flags.contains("avx512_bf16") { families.append("Cooperlake") }
        if avx512 { families.append("SkylakeX") }
        if flags.contains("avx2") && flags.contains("fma") {
            families.append(vendor == "AuthenticAMD" ? "Zen" : "Haswell")
        }
        return families + [""]
    }

    /// Makes the choice when it has not been made: either returns at once (the variable is set, or the platform is
    /// not Linux x86-64) or re-executes the program with `OPENBLAS_CORETYPE` set and never returns. In a probe
    /// child it times sgemm, prints the figure and exits. Call it first in `main`, before any other thread starts.
    public static func applyFastest() {
        #if os(Linux) && arch(x86_64)
        let environment = ProcessInfo.processInfo.environment
        if environment[probeVariable] != nil {
            print(probeGFLOPs())
            exit(0)
        }
        guard environment["OPENBLAS_CORETYPE"] == nil, environment[chosenVariable] == nil, !CPUFeatures.fields.isEmpty
        else { return }
        let fields = CPUFeatures.fields, flags = CPUFeatures.flags
        let key = [fields["model name"] ?? "", flags.sorted().joined(separator: " "), BLAS.build].joined(separator: "|")
        let cache = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/dtrain/openblas-core")
        let core: String
        if let remembered = try? String(contentsOf: cache, encoding: .utf8),
           let line = remembered.split(separator: "\n").first(where: { $0.hasPrefix(key + "=") }) {
            core = String(line.dropFirst(key.count + 1))
        } else {
            let timed = candidates(flags: flags, vendor: fields["vendor_id"] ?? "").map { ($0, probe($0)) }
            core = timed.max { $0.1 < $1.1 }?.0 ?? ""
            remember(key + "=" + core, in: cache)
        }
        setenv(chosenVariable, core.isEmpty ? "default" : core, 1)
        if !core.isEmpty { setenv("OPENBLAS_CORETYPE", core, 1) }
        // The executable's own path, not /proc/self/exe: the process keeps its name ("dtrain" in ps and /proc).
        execv(executablePath, UnsafePointer(CommandLine.unsafeArgv))
        // exec failed: go on with OpenBLAS's own choice.
        #endif
    }

    /// The running program's file.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "/proc/self/exe"
    }

    /// sgemm GFLOP/s of the running process's OpenBLAS on one thread, on a 512^3 product and an im2col-shaped
    /// 64x3136x576 one (the slower of the two, so that a family fast only on square matrices does not win).
    static func probeGFLOPs() -> Double {
        BLAS.setThreads(1)
        func rate(m: Int, n: Int, k: Int) -> Double {
            let a = Tensor(zeros: [m, k]), b = Tensor(zeros: [k, n]), c = Tensor(zeros: [m, n])
            a.fill(0.5)
            b.fill(0.25)
            gemm(.none, .none, m: m, n: n, k: k, a: a.pointer, b: b.pointer, c: c.pointer)
            var best = 0.0
            for _ in 0..<5 {
                let start = DispatchTime.now().uptimeNanoseconds
                gemm(.none, .none, m: m, n: n, k: k, a: a.pointer, b: b.pointer, c: c.pointer)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                best = max(best, 2 * Double(m * n * k) / seconds / 1e9)
            }
            return best
        }
        return min(rate(m: 512, n: 512, k: 512), rate(m: 64, n: 3136, k: 576))
    }

    /// The probe figure of a child running with `OPENBLAS_CORETYPE=core` (unset for ""), or 0 if it fails.
    static func probe(_ core: String) -> Double {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: executablePath)
        var environment = ProcessInfo.processInfo.environment
        environment[probeVariable] = "1"
        environment["OPENBLAS_CORETYPE"] = core.isEmpty ? nil : core
        environment["OPENBLAS_NUM_THREADS"] = "1"
        child.environment = environment
        let output = Pipe()
        child.standardOutput = output
        child.standardError = FileHandle.nullDevice
        guard (try? child.run()) != nil else { return 0 }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        child.waitUntilExit()
        guard child.terminationStatus == 0 else { return 0 }
        return Double(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// Adds `line` to the cache file by writing a new file and renaming it, so that ranks starting together never
    /// read a half-written one.
    static func remember(_ line: String, in cache: URL) {
        let directory = cache.deletingLastPathComponent()
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let previous = (try? String(contentsOf: cache, encoding: .utf8)) ?? ""
        let temporary = directory.appendingPathComponent("openblas-core.\(getpid()).tmp")
        guard (try? (previous + line + "\n").write(to: temporary, atomically: false, encoding: .utf8)) != nil else {
            return
        }
        _ = rename(temporary.path, cache.path)
    }
}
