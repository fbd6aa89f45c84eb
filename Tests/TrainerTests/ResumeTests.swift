import Data
import Foundation
import MPITestSupport
import Testing
import Trainer

/// A run that dies continues exactly where it was: kill every rank, rerun the same command, and compare with the
/// run that was never interrupted.
@Suite(.serialized) struct ResumeTests {
    /// LeNet-5 for 3 epochs of 16 steps with a checkpoint every 5 steps and a line per step, on synthetic decoded
    /// images or (`encoded`) on JPEG files decoded with RandomResizedCrop to 28x28.
    func config(_ scratch: TrainerRunSupport, out: String, encoded: Bool = false) throws -> String {
        let train = scratch.path("train.h5"), validation = scratch.path("val.h5")
        if !FileManager.default.fileExists(atPath: train) {
            if encoded {
                for (split, count, seed) in [("train", 256, 1), ("val", 64, 2)] {
                    try EncodedImageTrainingTests.writeTree(scratch.path(split), count: count, seed: seed)
                    _ = try ImageFolderPacker(folder: try ImageFolder(root: scratch.path(split)),
                                              output: scratch.path("\(split).h5")).pack()
                }
            } else {
                _ = try scratch.synthetic("train.h5", count: 256, seed: 1)
                _ = try scratch.synthetic("val.h5", count: 64, seed: 2)
            }
        }
        var text = scratch.lenetConfig(train: train, validation: validation, steps: 1000, out: out)
            .replacingOccurrences(of: "max_steps = 1000", with: "epochs = 3")
            .replacingOccurrences(of: "every_steps = 10", with: "every_steps = 1\n[checkpoint]\nevery_steps = 5\nkeep = 2")
        if encoded { text = text.replacingOccurrences(of: "global_batch = 16", with: "global_batch = 16\nimage_size = 28\nresize = 32") }
        return try scratch.config("\((out as NSString).lastPathComponent).toml", text)
    }

    /// Starts `dtrain ARGUMENTS` under mpirun in the background.
    func start(_ arguments: [String], ranks: Int) throws -> ChildProcess {
        var environment = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMIX_") && !$0.key.hasPrefix("ORTE_")
        }
        environment["OPENBLAS_NUM_THREADS"] = "1"
        return try ChildProcess(executable: try MPIRun.locateMPIRun(),
                                arguments: ["--allow-run-as-root", "--oversubscribe", "-n", String(ranks),
                                            try MPIRun.product(named: "dtrain")] + arguments,
                                environment: environment)
    }

    /// Waits until the run's metrics show step `step` of epoch 2 (1-based), or fails after a minute.
    func waitForEpochTwo(_ out: String, step: Int) throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let metrics = (try? String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8)) ?? ""
            if metrics.contains("\"epoch\": 2, \"step\": \(step),") { return }
            Thread.sleep(forTimeInterval: 0.01)
        }
        Issue.record("the run never reached epoch 2 step \(step)")
    }

    /// Every train record's loss by global step.
    func losses(_ out: String) throws -> [Int: String] {
        var losses: [Int: String] = [:]
        for line in try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        where line.contains("\"train\"") {
            let fields = line.split(separator: ",")
            let step = fields.first { $0.contains("global_step") }!.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)
            losses[Int(step)!] = String(fields.first { $0.contains("\"loss\"") }!)
        }
        return losses
    }

    @Test(arguments: [(1, false), (2, false), (2, true)])
    func killedRunContinuesBitwiseExactly(ranks: Int, encoded: Bool) throws {
        let scratch = try TrainerRunSupport("resume\(ranks)\(encoded ? "-encoded" : "")")
        defer { scratch.remove() }
        let straight = scratch.path("straight"), killed = scratch.path("killed")
        let straightConfig = try config(scratch, out: straight, encoded: encoded)
        let killedConfig = try config(scratch, out: killed, encoded: encoded)
        let reference = try scratch.dtrain([straightConfig], ranks: ranks)
        #expect(reference.status == 0, "the uninterrupted run failed:\n\(reference.stderr)")

        let run = try start([killedConfig], ranks: ranks)
        try waitForEpochTwo(killed, step: 8)
        run.kill()  // mpirun and every rank at once, as a power cut or the OOM killer would
        let resumed = try scratch.dtrain([killedConfig], ranks: ranks)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("resuming from"), "\(resumed.stdout)")

        let expected = try ModelFile.readParameters(from: straight + "/model.h5")
        let actual = try ModelFile.readParameters(from: killed + "/model.h5")
        #expect(expected == actual, "parameters after the resumed run differ from the uninterrupted run")
        let (uninterrupted, replayed) = (try losses(straight), try losses(killed))
        #expect(replayed.count == 48 && uninterrupted.count == 48)
        for step in 1...48 {
            #expect(uninterrupted[step] == replayed[step], "step \(step): \(uninterrupted[step] ?? "") vs \(replayed[step] ?? "")")
        }
    }

    /// Checkpointed on 2 ranks, resumed on 1 and on 4 with the same global batch: the same stream, so the end
    /// differs from the uninterrupted 2-rank run only by the rounding of summing gradients in another order.
    @Test func resumesOnAnotherNumberOfRanks() throws {
        let scratch = try TrainerRunSupport("worldsize")
        defer { scratch.remove() }
        let straight = scratch.path("straight")
        let reference = try scratch.dtrain([try config(scratch, out: straight)], ranks: 2)
        #expect(reference.status == 0, "the uninterrupted run failed:\n\(reference.stderr)")
        let expected = try ModelFile.readParameters(from: straight + "/model.h5")
        for ranks in [1, 4] {
            let out = scratch.path("on\(ranks)")
            let file = try config(scratch, out: out)
            let run = try start([file], ranks: 2)
            try waitForEpochTwo(out, step: 8)
            run.kill()
            let resumed = try scratch.dtrain([file], ranks: ranks)
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(resumed.stdout.contains("written by 2 ranks, continuing on \(ranks)"), "\(resumed.stdout)")
            let actual = try ModelFile.readParameters(from: out + "/model.h5")
            var worst = 0.0
            for (name, values) in expected {
                let scale = Double(values.map(abs).max() ?? 1)
                worst = max(worst, zip(values, actual[name]!).map { Double(abs($0 - $1)) / scale }.max() ?? 0)
            }
            print("checkpointed on 2 ranks, resumed on \(ranks): worst relative parameter difference \(worst)")
            #expect(worst < 1e-4)
        }
    }

    /// A signal in the middle of an epoch (SIGUSR1 to mpirun, which forwards it; SIGTERM to every rank, as Slurm
    /// sends it): every rank stops after the same step, writes a checkpoint there and exits with status 75; the
    /// rerun continues from that step.
    @Test(arguments: ["mpirun", "ranks"])
    func signalLeavesACheckpointAtThatStep(target: String) throws {
        let scratch = try TrainerRunSupport("signal-\(target)")
        defer { scratch.remove() }
        let out = scratch.path("run")
        let file = try config(scratch, out: out)
        // Long enough that the signal surely arrives mid-run.
        let run = try start([file, "--set", "run.epochs=40"], ranks: 2)
        try waitForEpochTwo(out, step: 3)
        if target == "mpirun" {
            kill(run.pid, SIGUSR1)
        } else {
            // The ranks only, found below mpirun by their rank number.
            let ranks = JobProcesses.ranks(under: run.pid)
            #expect(ranks.count == 2, "ranks found below mpirun: \(ranks)")
            for rank in ranks.values { kill(rank, SIGTERM) }
        }
        let stopped = try run.wait(timeout: .seconds(120))
        let latest = try String(contentsOfFile: out + "/checkpoints/latest", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let stoppedAt = try losses(out).keys.max() ?? 0
        print("signal to \(target): mpirun exited with \(stopped.status); last step \(stoppedAt), latest checkpoint \(latest)")
        #expect(latest == "ckpt-\(stoppedAt).h5")
        #expect(stoppedAt > 16 && stoppedAt < 640)
        #expect(stopped.status == StopSignal.exitStatus)
        let resumed = try scratch.dtrain([file, "--set", "run.epochs=40", "--set", "run.max_steps=\(stoppedAt + 3)"], ranks: 2)
        #expect(resumed.status == 0)
        #expect(resumed.stdout.contains("resuming from \(out)/checkpoints/ckpt-\(stoppedAt).h5: step \(stoppedAt)"), "\(resumed.stdout)")
    }

    /// A config change the run cannot continue under is refused; a harmless one is reported.
    @Test func incompatibleConfigIsRefusedHarmlessChangeReported() throws {
        let scratch = try TrainerRunSupport("compatibility")
        defer { scratch.remove() }
        let out = scratch.path("run")
        let file = try config(scratch, out: out)
        #expect(try scratch.dtrain([file, "--set", "run.max_steps=10"], ranks: 1).status == 0)
        let refused = try scratch.dtrain([file, "--set", "data.global_batch=32"], ranks: 1)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("data.global_batch = 16, this config has 32"), "\(refused.stderr)")
        let changed = try scratch.dtrain([file, "--set", "run.max_steps=12", "--set", "log.every_steps=2"], ranks: 1)
        #expect(changed.status == 0)
        #expect(changed.stdout.contains("resuming with changed settings") && changed.stdout.contains("every_steps = 2"), "\(changed.stdout)")
    }
}
