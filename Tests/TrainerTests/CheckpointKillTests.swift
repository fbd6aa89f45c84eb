import Foundation
import MPITestSupport
import Testing
import Trainer

// Part of CheckpointTests, so that `swift test --filter CheckpointTests` runs it too.
extension CheckpointTests {
    /// A writer killed with SIGKILL at random moments never leaves a damaged ckpt-*.h5, and there is always a good one.
    @Test func killedWritersLeaveOnlyValidCheckpoints() throws {
        let writer = try MPIRun.product(named: "dtrain-checkpoint-writer")
        let directory = temporaryCheckpointDirectory("kill")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A fixed sequence of delays, so that a failure can be reproduced.
        var generator = SplitMix(seed: 2026)
        var killsDuringWrite = 0, written = 0
        for kill in 0..<30 {
            let child = try ChildProcess(executable: writer, arguments: [directory])
            // Start the clock once the model is built, so that the delays spread over writing.
            let deadline = ContinuousClock.now + .seconds(60)
            while !child.stdout.contains("writing"), ContinuousClock.now < deadline { usleep(2_000) }
            try #require(child.stdout.contains("writing"), "the writer did not start")
            usleep(UInt32(generator.next() % 200_000))
            child.kill()

            let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            if names.contains(where: { $0.hasSuffix(".tmp") }) { killsDuringWrite += 1 }
            for name in names where isCheckpointName(name) {
                #expect(throws: Never.self, "kill \(kill): \(name)") { try CheckpointFile.read(directory + "/" + name) }
            }
            var reports: [String] = []
            let newest = CheckpointFile.newestValid(in: directory) { reports.append($0) }
            #expect(reports.isEmpty, "kill \(kill): \(reports)")
            if let newest {
                #expect(newest.state.step >= written, "kill \(kill): went back from \(written)")
                written = newest.state.step
            } else {
                #expect(names.allSatisfy { !isCheckpointName($0) }, "kill \(kill): \(names)")
            }
        }
        print("checkpoint kill test: 30 kills, \(killsDuringWrite) during a write, \(written) checkpoints written")
        #expect(written > 0)
        #expect(killsDuringWrite > 0, "no kill landed during a write; the test proves nothing")
    }
}

/// Whether `name` is ckpt-<step>.h5 (not a temporary file, not `latest`).
private func isCheckpointName(_ name: String) -> Bool {
    name.wholeMatch(of: /ckpt-[0-9]+\.h5/) != nil
}

/// SplitMix64: a tiny seeded generator for reproducible delays.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
