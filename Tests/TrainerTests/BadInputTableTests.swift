import Data
import Foundation
import HDF5
import MPITestSupport
import Testing
import Trainer

/// Thirty-one kinds of bad input, each run as `mpirun -n 2 dtrain ...`: every rank ends within 10 s, with one line that
/// names the file, key or value and what was expected, and a non-zero exit status (2 for a user's mistake, 4 for a
/// stalled rank, 5 for values that are no longer finite).
///
/// `DTRAIN_BAD_INPUT_TABLE=FILE` appends each case's row of the README's table (case, input, the line, exit status,
/// seconds until every rank has ended) to FILE, in the order the cases run; `sort -t'|' -k2 -n FILE` orders them.
///
/// Serialized: every case is a 2-rank job on a 2-core machine.
@Suite(.serialized) struct BadInputTableTests {
    /// A mistake that needs nothing but the files it writes and dtrain's arguments.
    struct Case: Sendable, CustomTestStringConvertible {
        /// The row's number in the table.
        let number: Int
        /// The input column: what is wrong.
        let input: String
        /// What the one line must contain.
        let fragments: [String]
        /// Writes the input into the scratch folder (which holds train.h5 and val.h5) and returns dtrain's arguments.
        let arguments: @Sendable (TrainerRunSupport, _ train: String, _ validation: String) throws -> [String]
        var testDescription: String { input }
    }

    /// The LeNet-5 config of `TrainerRunSupport` on train.h5 and val.h5 with `old` replaced by `new`, as c.toml.
    static func lenet(_ scratch: TrainerRunSupport, replacing old: String = "", with new: String = "",
                      train: String? = nil, validation: String? = nil) throws -> String {
        let text = scratch.lenetConfig(train: train ?? scratch.path("train.h5"),
                                       validation: validation ?? scratch.path("val.h5"), out: scratch.path("o"))
        precondition(old.isEmpty || text.contains(old), "'\(old)' is not in the LeNet-5 config")
        return try scratch.config("c.toml", old.isEmpty ? text : text.replacingOccurrences(of: old, with: new))
    }

    static let cases: [Case] = [
        Case(number: 1, input: "config file missing", fragments: ["cannot read config", "absent.toml", "no such file"]) { scratch, _, _ in
            [scratch.path("absent.toml")]
        },
        Case(number: 2, input: "config path is a directory", fragments: ["cannot read config", "it is a directory"]) { scratch, _, _ in
            try FileManager.default.createDirectory(atPath: scratch.path("configs"), withIntermediateDirectories: true)
            return [scratch.path("configs")]
        },
        Case(number: 3, input: "malformed TOML (`seed = = 3`)", fragments: ["malformed TOML in", "bad.toml", "line 2"]) { scratch, _, _ in
            [try scratch.config("bad.toml", "[run]\nseed = = 3\n")]
        },
        Case(number: 4, input: "unknown key `optimizer.momentun`",
             fragments: ["unknown key optimizer.momentun", "c.toml", "did you mean optimizer.momentum?"]) { scratch, _, _ in
            [try lenet(scratch, replacing: "lr = 0.02", with: "lr = 0.02\nmomentun = 0.9")]
        },
        Case(number: 5, input: "unknown section `[optimiser]`", fragments: ["unknown section [optimiser]", "did you mean [optimizer]?"]) { scratch, _, _ in
            [try lenet(scratch, replacing: "[optimizer]", with: "[optimiser]")]
        },
        Case(number: 6, input: "wrong type (`lr = \"fast\"`)", fragments: ["optimizer.lr in", "c.toml is a string, expected a number"]) { scratch, _, _ in
            [try lenet(scratch, replacing: "lr = 0.02", with: "lr = \"fast\"")]
        },
        Case(number: 7, input: "required key missing (`data.train`)", fragments: ["missing required key data.train", "expected a string"]) { scratch, train, _ in
            [try lenet(scratch, replacing: "train = \"\(train)\"", with: "")]
        },
        Case(number: 8, input: "`optimizer.lr = 0`", fragments: ["optimizer.lr in", "must be > 0, got 0.0"]) { scratch, _, _ in
            [try lenet(scratch, replacing: "lr = 0.02", with: "lr = 0")]
        },
        Case(number: 9, input: "`data.global_batch = 0`", fragments: ["data.global_batch in", "must be ≥ 1, got 0"]) { scratch, _, _ in
            [try lenet(scratch, replacing: "global_batch = 16", with: "global_batch = 0")]
        },
        Case(number: 10, input: "`run.epochs = -1`", fragments: ["run.epochs in", "must be ≥ 1, got -1"]) { scratch, _, _ in
            [try lenet(scratch, replacing: "[run]", with: "[run]\nepochs = -1")]
        },
        Case(number: 11, input: "global batch 15 on 2 ranks", fragments: ["data.global_batch = 15 is not divisible by the 2 ranks"]) { scratch, _, _ in
            [try lenet(scratch, replacing: "global_batch = 16", with: "global_batch = 15")]
        },
        Case(number: 12, input: "global batch larger than the training set", fragments: ["has 64 samples, fewer than data.global_batch = 128"]) { scratch, _, _ in
            [try lenet(scratch, replacing: "global_batch = 16", with: "global_batch = 128")]
        },
        Case(number: 13, input: "malformed `--set optimizer.lr`", fragments: ["bad override 'optimizer.lr': expected section.key=value"]) { scratch, _, _ in
            [try lenet(scratch), "--set", "optimizer.lr"]
        },
        Case(number: 14, input: "training set missing", fragments: ["absent.h5: no such file"]) { scratch, _, _ in
            [try lenet(scratch, train: scratch.path("absent.h5"))]
        },
        Case(number: 15, input: "training set not HDF5", fragments: ["notes.h5: not an HDF5 file"]) { scratch, _, _ in
            try "not a dataset\n".write(toFile: scratch.path("notes.h5"), atomically: true, encoding: .utf8)
            return [try lenet(scratch, train: scratch.path("notes.h5"))]
        },
        Case(number: 16, input: "training set truncated to half its bytes", fragments: ["truncated.h5: truncated: 31848 bytes of the 63696 its HDF5 header records"]) { scratch, train, _ in
            let bytes = try Data(contentsOf: URL(fileURLWithPath: train))
            try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: scratch.path("truncated.h5")))
            return [try lenet(scratch, train: scratch.path("truncated.h5"))]
        },
        Case(number: 17, input: "`images` stored as float32", fragments: ["float.h5: images is float32, expected uint8"]) { scratch, _, _ in
            [try lenet(scratch, train: try BadDatasets.floatImages(scratch.path("float.h5")))]
        },
        Case(number: 18, input: "`images` of rank 3 ([N, H, W])", fragments: ["flat.h5: images has shape [4, 28, 28], expected [N, C, H, W]"]) { scratch, _, _ in
            [try lenet(scratch, train: try BadDatasets.imagesWithoutChannels(scratch.path("flat.h5")))]
        },
        Case(number: 19, input: "label 11 in a 10-class set", fragments: ["labels.h5: labels[2] = 11 is outside 0..<10"]) { scratch, _, _ in
            [try lenet(scratch, train: try BadDatasets.labelOutOfRange(scratch.path("labels.h5")))]
        },
        Case(number: 20, input: "attribute `mean` missing", fragments: ["nomean.h5: attribute mean is missing", "one per channel"]) { scratch, _, _ in
            [try lenet(scratch, train: try BadDatasets.withoutMean(scratch.path("nomean.h5")))]
        },
        Case(number: 21, input: "attribute `std` = [0]", fragments: ["zerostd.h5: attribute std is", "expected 1 positive float"]) { scratch, _, _ in
            [try lenet(scratch, train: try BadDatasets.zeroStd(scratch.path("zerostd.h5")))]
        },
        Case(number: 22, input: "validation images 1x32x32, training images 1x28x28", fragments: ["data.val", "[1, 32, 32]", "but data.train", "[1, 28, 28]"]) { scratch, _, _ in
            try Packer.packSynthetic(output: scratch.path("val32.h5"), count: 16, shape: [1, 32, 32], classes: 10, seed: 2)
            return [try lenet(scratch, validation: scratch.path("val32.h5"))]
        },
        Case(number: 23, input: "a damaged chunk in the middle of `images` (Fletcher-32 fails)",
             fragments: ["damaged.h5: samples 32..<48 of images cannot be read"]) { scratch, _, _ in
            [try lenet(scratch, train: try BadDatasets.damagedThirdChunk(scratch.path("damaged.h5")))]
        },
        Case(number: 24, input: "the same damaged chunk, read during training (`data.cache_mb = 0`)",
             fragments: ["damaged.h5: samples 32..<48 of images cannot be read"]) { scratch, _, _ in
            [try lenet(scratch, train: try BadDatasets.damagedThirdChunk(scratch.path("damaged.h5"))), "--set", "data.cache_mb=0"]
        },
        Case(number: 25, input: "`--resume` to a checkpoint with a flipped byte", fragments: ["ckpt-2.h5", "does not match"]) { scratch, _, _ in
            let checkpoint = try checkpoint(scratch, model: "lenet5")
            var bytes = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
            bytes[bytes.count / 2] ^= 0xFF
            try bytes.write(to: URL(fileURLWithPath: checkpoint))
            return [try lenet(scratch), "--resume", checkpoint]
        },
        Case(number: 26, input: "`--resume` to a checkpoint of another model (MLP)", fragments: ["ckpt-2.h5 was trained with model mlp"]) { scratch, _, _ in
            [try lenet(scratch), "--resume", try checkpoint(scratch, model: "mlp")]
        },
        Case(number: 27, input: "`run.out_dir` is a file", fragments: ["run.out_dir = ", "taken is a file, expected a directory"]) { scratch, _, _ in
            try "".write(toFile: scratch.path("taken"), atomically: true, encoding: .utf8)
            return [try lenet(scratch), "--set", "run.out_dir=\"\(scratch.path("taken"))\""]
        },
        Case(number: 28, input: "ranks started with different configs (`lr` 0.02 and 0.03)", fragments: ["different configs"]) { scratch, _, _ in
            let first = try lenet(scratch)
            let second = try scratch.config("d.toml", try String(contentsOfFile: first, encoding: .utf8)
                .replacingOccurrences(of: "lr = 0.02", with: "lr = 0.03"))
            // mpirun -n 2 dtrain A : -n 1 dtrain B would start three ranks, so the first part takes one rank
            // (MPIRun's -n 2 becomes -n 1 below).
            return [first, ":", "-n", "1", try MPIRun.product(named: "dtrain"), second]
        },
    ]

    /// A 1-rank, 2-step run of `model` in out_dir `<model>-run`; returns its checkpoint ckpt-2.h5.
    static func checkpoint(_ scratch: TrainerRunSupport, model: String) throws -> String {
        let out = scratch.path("\(model)-run")
        let config = try scratch.config("\(model).toml", scratch.lenetConfig(
            train: scratch.path("train.h5"), validation: scratch.path("val.h5"), steps: 2, out: out))
        let result = try scratch.dtrain([config, "--set", "model.name=\"\(model)\""], ranks: 1, timeout: .seconds(60))
        guard result.status == 0 else { throw TrainerError.invalid("the \(model) run failed: \(result.stderr)") }
        return out + "/checkpoints/ckpt-2.h5"
    }

    /// A scratch folder with the 64-image training set and 16-image validation set every case starts from.
    static func scratch(_ name: String) throws -> TrainerRunSupport {
        let scratch = try TrainerRunSupport(name)
        _ = try scratch.synthetic("train.h5", count: 64, seed: 1)
        _ = try scratch.synthetic("val.h5", count: 16, seed: 2)
        return scratch
    }

    @Test(arguments: cases)
    func badInputEndsEveryRankWithOneClearLine(_ input: Case) throws {
        let scratch = try Self.scratch("table")
        defer { scratch.remove() }
        let arguments = try input.arguments(scratch, scratch.path("train.h5"), scratch.path("val.h5"))
        let ranks = arguments.contains(":") ? 1 : 2
        let result = try scratch.dtrain(arguments, ranks: ranks, timeout: .seconds(60))
        Self.check(result, number: input.number, input: input.input, fragments: input.fragments, status: 2, scratch: scratch)
    }

    /// A full disk under run.out_dir: the checkpoint that cannot be written is reported, the previous one stays
    /// intact and is still the one `latest` names, and the run ends with one line when the model cannot be saved.
    @Test func fullDiskKeepsThePreviousCheckpoint() throws {
        let scratch = try Self.scratch("full")
        defer { scratch.remove() }
        let disk = scratch.path("disk")
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        // A file system of its own, small enough to fill: tmpfs, which only root (CAP_SYS_ADMIN) may mount.
        let mounted = try ChildProcess(executable: "/bin/mount", arguments: ["-t", "tmpfs", "-o", "size=2m", "tmpfs", disk]).wait()
        try #require(mounted.status == 0, """
            this case needs a small file system to fill and could not mount one (mount -t tmpfs -o size=2m tmpfs \(disk) \
            exited with \(mounted.status): \(mounted.stderr.trimmingCharacters(in: .whitespacesAndNewlines))); \
            run the tests as root, or in a container with CAP_SYS_ADMIN
            """)
        defer { _ = try? ChildProcess(executable: "/bin/umount", arguments: [disk]).wait() }
        let out = disk + "/run"
        let config = try scratch.config("c.toml", scratch.lenetConfig(
            train: scratch.path("train.h5"), validation: scratch.path("val.h5"), steps: 2, out: out))
        let first = try scratch.dtrain([config], ranks: 2, timeout: .seconds(60))
        try #require(first.status == 0, "the run that writes the first checkpoint failed:\n\(first.stderr)")
        let previous = try CheckpointFile.read(out + "/checkpoints/ckpt-2.h5")
        // Fill what is left: dd stops with "No space left on device".
        _ = try ChildProcess(executable: "/bin/dd", arguments: ["if=/dev/zero", "of=\(disk)/filler", "bs=64k"]).wait()

        let result = try scratch.dtrain([config, "--set", "run.max_steps=4"], ranks: 2, timeout: .seconds(60))
        Self.check(result, number: 29, input: "`run.out_dir` on a full file system (tmpfs of 2 MB, filled)",
                   fragments: ["model.h5", "No space left on device"], status: 2, scratch: scratch)
        #expect(result.stdout.contains("resuming from \(out)/checkpoints/ckpt-2.h5"), "\(result.stdout)")
        #expect(result.stdout.contains("could not write a checkpoint at step 4"), "\(result.stdout)")
        let names = try FileManager.default.contentsOfDirectory(atPath: out + "/checkpoints")
        #expect(names.sorted() == ["ckpt-2.h5", "latest"], "left in checkpoints/: \(names)")
        let kept = try CheckpointFile.read(out + "/checkpoints/ckpt-2.h5")
        #expect(kept.tensorDigest == previous.tensorDigest)
        #expect(try String(contentsOfFile: out + "/checkpoints/latest", encoding: .utf8) == "ckpt-2.h5\n")
    }

    /// A rank that stops answering (SIGSTOP) is named by rank 0 after `comm.stall_warning_seconds`, and the job
    /// ends with status 4 after `comm.stall_timeout_seconds`, every process gone.
    @Test func stalledRankIsNamedAndEndsTheJob() throws {
        let scratch = try Self.scratch("stall")
        defer { scratch.remove() }
        // 64 steps an epoch, so that the stop lands in a training step far more often than in a validation.
        let config = try Self.lenet(scratch, replacing: "max_steps = 50", with: "max_steps = 1000000\nepochs = 1000",
                                    train: try scratch.synthetic("large.h5", count: 1024, seed: 5))
        let run = try ChildProcess(
            executable: try MPIRun.locateMPIRun(),
            arguments: ["--allow-run-as-root", "--oversubscribe", "-n", "2", try MPIRun.product(named: "dtrain"), config,
                        "--set", "log.every_steps=1", "--set", "comm.stall_warning_seconds=1",
                        "--set", "comm.stall_timeout_seconds=3"],
            environment: Self.environment)
        var ranks: [Int: pid_t] = [:]
        defer {
            // A rank left stopped by a failed run; the command line check spares a process that reused its pid.
            for pid in ranks.values where JobProcesses.isRunning(pid) && JobProcesses.commandLine(of: pid).contains(config) {
                kill(pid, SIGKILL)
            }
        }
        let deadline = ContinuousClock.now + .seconds(60)
        while !run.stdout.contains("epoch 1 step"), JobProcesses.isRunning(run.pid), ContinuousClock.now < deadline {
            usleep(10_000)
        }
        ranks = JobProcesses.ranks(under: run.pid)
        guard run.stdout.contains("epoch 1 step"), let stalled = ranks[1] else {
            let result = try run.wait(timeout: .seconds(10))
            Self.record(number: 30, input: Self.stallInput, line: Self.dtrainLines(result.stderr).first ?? "",
                        status: result.status, seconds: result.seconds, scratch: scratch)
            Issue.record("training never ran (status \(result.status)):\n\(result.stderr)")
            return
        }
        kill(stalled, SIGSTOP)
        let stoppedAt = ContinuousClock.now
        let result = try run.wait(timeout: .seconds(120))
        let seconds = (ContinuousClock.now - stoppedAt) / .seconds(1)
        let output = (result.stdout + "\n" + result.stderr).split(separator: "\n")
        let warning = output.first { $0.contains("stalled") }.map(String.init) ?? ""
        Self.record(number: 30, input: Self.stallInput, line: warning,
                    status: result.status, seconds: seconds, scratch: scratch)
        // Named whether the stop lands before rank 1 announced the collective or inside it (a stopped process on
        // this host is seen in /proc).
        #expect(warning.contains("rank 1 (host ") && warning.contains("pid \(stalled))"), "\(result.stdout)\n\(result.stderr)")
        #expect(result.status == 4, "\(result.stderr)")
        #expect(seconds < 3 + 10)
        let left = JobProcesses.stillRunning(Array(ranks.values), after: .seconds(5))
        let states = left.map { "\($0) (state \(JobProcesses.state(of: $0)))" }
        #expect(left.isEmpty, "ranks still running 5 s after mpirun ended: \(states)")
    }

    static let stallInput = "rank 1 stopped with SIGSTOP (`comm.stall_warning_seconds=1`, `comm.stall_timeout_seconds=3`)"

    /// A learning rate so large that the values overflow: the run ends with status 5 and one line naming the step
    /// and a parameter, and the newest checkpoint is the last one whose values were finite.
    @Test func hugeLearningRateEndsWithTheLastGoodCheckpoint() throws {
        let scratch = try Self.scratch("nan")
        defer { scratch.remove() }
        let config = try Self.lenet(scratch, replacing: "lr = 0.02", with: "lr = 1e30")
        let result = try scratch.dtrain([config, "--set", "checkpoint.every_steps=1"], ranks: 2, timeout: .seconds(60))
        Self.check(result, number: 31, input: "`optimizer.lr = 1e30` (values overflow)", fragments: ["not finite", "step"],
                   status: 5, scratch: scratch)
        let line = Self.dtrainLines(result.stderr).first ?? ""
        #expect(line.contains(/[a-z0-9_]+(\.[a-z0-9_]+)*\.(weight|bias)/), "no parameter named in: \(line)")
        let newest = try #require(CheckpointFile.newestValid(in: scratch.path("o/checkpoints")) { _ in })
        let infinite = newest.parameters.filter { !$0.value.allSatisfy(\.isFinite) }.keys.sorted()
        #expect(infinite.isEmpty, "\(newest.path) holds values that are not finite in \(infinite)")
    }

    // MARK: Checking and recording

    /// The environment of a run started without MPIRun: no variables of an enclosing MPI job, one BLAS thread.
    static var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMIX_") && !$0.key.hasPrefix("ORTE_")
        }
        environment["OPENBLAS_NUM_THREADS"] = "1"
        return environment
    }

    /// dtrain's lines on stderr: everything but Open MPI's help banners (between lines of dashes) and its
    /// `[host:pid]` notes, so that a second message or a stack trace counts as a line too.
    static func dtrainLines(_ stderr: String) -> [String] {
        var lines: [String] = [], inBanner = false
        for line in stderr.split(separator: "\n") where !line.allSatisfy(\.isWhitespace) {
            if line.count >= 20, line.allSatisfy({ $0 == "-" }) {
                inBanner.toggle()
            } else if !inBanner, line.wholeMatch(of: /\[[^\]\s]+:\d+\] .*/) == nil {
                lines.append(String(line))
            }
        }
        return lines
    }

    /// Checks that `result` ended within 10 s with `status` and exactly one line holding every fragment.
    static func check(_ result: MPIRun.Result, number: Int, input: String, fragments: [String], status: Int32,
                      scratch: TrainerRunSupport) {
        let lines = dtrainLines(result.stderr)
        record(number: number, input: input, line: lines.first ?? "", status: result.status, seconds: result.seconds,
               scratch: scratch)
        #expect(result.status == status, "exit status \(result.status), expected \(status):\n\(result.stderr)")
        #expect(result.seconds < 10, "the ranks took \(result.seconds) s to end")
        #expect(lines.count == 1, "expected one line, got \(lines.count):\n\(result.stderr)")
        for fragment in fragments {
            #expect(lines.first?.contains(fragment) == true, "\"\(lines.first ?? "")\" lacks \"\(fragment)\"")
        }
    }

    /// Prints the case's outcome and, with DTRAIN_BAD_INPUT_TABLE set, appends it to that file as a table row.
    static func record(number: Int, input: String, line: String, status: Int32, seconds: Double,
                       scratch: TrainerRunSupport) {
        let shown = line.replacingOccurrences(of: scratch.directory + "/", with: "")
        let time = String(format: "%.1f", seconds)
        print("bad input \(number) (\(input)): status \(status) after \(time) s: \(shown)")
        guard let table = ProcessInfo.processInfo.environment["DTRAIN_BAD_INPUT_TABLE"] else { return }
        let cell = shown.isEmpty ? "(none)" : "`" + shown.replacingOccurrences(of: "|", with: "\\|") + "`"
        let row = "| \(number) | \(input) | \(cell) | \(status) | \(time) |\n"
        if !FileManager.default.fileExists(atPath: table) { _ = FileManager.default.createFile(atPath: table, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: table) else { return }
        handle.seekToEndOfFile()
        handle.write(Data(row.utf8))
        handle.closeFile()
    }
}
