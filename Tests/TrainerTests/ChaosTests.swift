import Foundation
import MPITestSupport
import Testing

/// A short run of `launch/chaos.sh`: random SIGKILLs of a rank, mpirun or the whole 2-rank job, each followed by
/// the same command with `--resume auto`, must leave no process behind, use no damaged checkpoint, and end with
/// tensors bitwise equal to an uninterrupted run.
@Suite struct ChaosTests {
    @Test func randomKillsLoseNothing() throws {
        // Tests/TrainerTests/ChaosTests.swift -> the package root.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        var environment = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMIX_") && !$0.key.hasPrefix("ORTE_")
        }
        environment["DTRAIN"] = try MPIRun.product(named: "dtrain")
        let chaos = try ChildProcess(executable: "/bin/bash",
                                     arguments: [root + "/launch/chaos.sh", "--kills", "3", "--steps", "32", "--seed", "2026"],
                                     environment: environment)
        let result = try chaos.wait(timeout: .seconds(180))
        print(result.stdout)
        #expect(result.status == 0, "chaos.sh failed:\n\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("kills: 3 "), "\(result.stdout)")
        #expect(result.stdout.contains("hangs (a process alive 10 s after a kill): 0"), "\(result.stdout)")
        #expect(result.stdout.contains("invalid checkpoints used: 0 "), "\(result.stdout)")
        #expect(!result.stdout.contains("MISMATCH"), "\(result.stdout)")
    }
}
