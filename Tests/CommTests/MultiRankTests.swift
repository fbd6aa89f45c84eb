import Foundation
import MPITestSupport
import Testing

/// The communicator across real ranks: dtrain-comm-check under mpirun with 2 and 4 ranks, and alone, started
/// without mpirun as `dtrain config.toml` is (MPI's singleton: rank 0 of 1).
///
/// MPI is never started inside this test process: its singleton start forks, and a fork while another test runs a
/// threaded BLAS call hangs the process (OpenBLAS's fork handler tears its thread pool down under that call).
///
/// Serialized because the machine has two cores and every run already oversubscribes them.
@Suite(.serialized) struct MultiRankTests {
    /// Runs one scenario and returns the payload each rank printed, by rank, after checking exit status and count.
    private func payloads(_ scenario: String, ranks: Int) throws -> [Int: String] {
        let result = try runCheck(scenario, ranks: ranks)
        #expect(result.status == 0, "\(scenario) on \(ranks) ranks ended with \(result.status):\n\(result.stderr)")
        var byRank: [Int: String] = [:]
        for line in result.stdout.split(separator: "\n") {
            let prefix = "\(scenario) rank "
            guard line.hasPrefix(prefix), let colon = line.firstIndex(of: ":") else { continue }
            let header = line[line.index(line.startIndex, offsetBy: prefix.count)..<colon].split(separator: " ")
            guard header.count == 3, let rank = Int(header[0]), header[2] == "\(ranks)" else { continue }
            byRank[rank] = String(line[line.index(colon, offsetBy: 2)...])
        }
        #expect(byRank.keys.sorted() == Array(0..<ranks), "ranks that reported:\n\(result.stdout)")
        return byRank
    }

    /// Runs a scenario under mpirun, or for one rank as a plain child process (a singleton).
    private func runCheck(_ scenario: String, ranks: Int, timeout: Duration = .seconds(60)) throws -> MPIRun.Result {
        let check = try MPIRun.product(named: "dtrain-comm-check")
        guard ranks > 1 else { return try ChildProcess(executable: check, arguments: [scenario]).wait(timeout: timeout) }
        return try MPIRun.run(executable: check, arguments: [scenario], ranks: ranks, timeout: timeout)
    }

    /// Expects every rank to have printed `expected`.
    private func expectAll(_ scenario: String, ranks: Int, _ expected: String) throws {
        for (rank, payload) in try payloads(scenario, ranks: ranks) {
            #expect(payload == expected, "rank \(rank) of \(ranks)")
        }
    }

    @Test(arguments: [1, 2, 4]) func allreduceSumMaxMinForEveryElementType(ranks: Int) throws {
        let sum = ranks * (ranks + 1) / 2
        let floating = "sum \(Double(sum)) max \(Double(ranks)) min 1.0"
        try expectAll("allreduce", ranks: ranks,
                      "float \(floating), double \(floating), int64 sum \(sum) max \(ranks) min 1")
    }

    @Test(arguments: [1, 2, 4]) func allreduceWritesInPlaceAndNowhereElse(ranks: Int) throws {
        let sum = Float(ranks * (ranks + 1) / 2)
        let doubleSum = Double(ranks * ranks) / 2
        try expectAll("in-place", ranks: ranks, "slice sum \(sum), sentinels intact, double sum \(doubleSum), "
            + "int max \((ranks - 1) * 1_000_000_000_000)")
    }

    @Test(arguments: [1, 2, 4]) func longBuffersTravelInPiecesUnderTheLimit(ranks: Int) throws {
        let expected = "1001 elements reduced and broadcast in pieces of 3, pieces of three bytes"
        try expectAll("split", ranks: ranks, expected)
    }

    @Test(arguments: [1, 2, 4]) func broadcastFromFirstAndLastRank(ranks: Int) throws {
        let expected = [0, ranks - 1].map { root in
            let text = String(repeating: "é", count: root) + "from rank \(root) ✓"
            let floats = (0...root).map { Float($0) + Float(root) / 10 }
            return "root \(root) bytes match \"\(text)\" \(floats) \(Int64(root) * -3)"
        }
        try expectAll("broadcast", ranks: ranks, expected.joined(separator: "; "))
    }

    @Test(arguments: [1, 2, 4]) func barrierWaitsForTheLastRank(ranks: Int) throws {
        try expectAll("barrier", ranks: ranks, "left after the last rank entered")
    }

    @Test(arguments: [2, 4]) func agreeIsTrueOnlyWhenAllRanksPassTheSameValue(ranks: Int) throws {
        try expectAll("agree", ranks: ranks, "true false true false false")
    }

    @Test func aSingleRankAlwaysAgrees() throws {
        try expectAll("agree", ranks: 1, "true true true true true")
    }

    @Test func concurrentCallersShareOneInstanceAndCollectivesAreSerialised() throws {
        try expectAll("threads", ranks: 1, "one instance, 8 of 8 threads' buffers intact, empty buffers unchanged")
    }

    @Test(arguments: [1, 2, 4]) func localRanksAndThreadSupport(ranks: Int) throws {
        for (rank, payload) in try payloads("info", ranks: ranks) {
            #expect(payload == "local \(rank) of \(ranks), named, MPI_THREAD_SERIALIZED")
        }
    }

    @Test(arguments: [1, 2, 4]) func finishTwiceThenExitNormally(ranks: Int) throws {
        try expectAll("finish", ranks: ranks, "finishing")
    }

    // MARK: Failures end the whole job quickly, never hang

    @Test(arguments: [1, 2, 4]) func abortWithAMessageEndsEveryRank(ranks: Int) throws {
        let result = try runCheck("abort", ranks: ranks)
        #expect(result.status == 2)
        #expect(result.stderr.contains("rank \(ranks - 1): configuration differs from rank 0's"), "\(result.stderr)")
        expectNoRankWentOn(result)
    }

    @Test(arguments: [1, 2, 4]) func failedMPICallIsReportedAndEndsEveryRank(ranks: Int) throws {
        let result = try runCheck("mpi-error", ranks: ranks)
        #expect(result.status == 3)
        let message = "rank \(ranks - 1): MPI_Bcast of 8 bytes from root \(ranks + 5) failed: MPI_ERR_ROOT"
        #expect(result.stderr.contains(message), "\(result.stderr)")
        expectNoRankWentOn(result)
    }

    @Test(arguments: [1, 2, 4]) func nonZeroExitOnOneRankEndsEveryRank(ranks: Int) throws {
        let result = try runCheck("exit", ranks: ranks)
        #expect(result.status == 4, "\(result.stderr)")
        expectNoRankWentOn(result)
    }

    @Test(arguments: [1, 2, 4]) func trapOnOneRankEndsEveryRank(ranks: Int) throws {
        let result = try runCheck("trap", ranks: ranks)
        #expect(result.status != 0)
        #expect(result.stderr.contains("rank \(ranks - 1): deliberate trap"), "\(result.stderr)")
        expectNoRankWentOn(result)
    }

    @Test func hangIsKilledAtTheTimeLimitAndFails() throws {
        let start = ContinuousClock.now
        #expect {
            try runCheck("hang", ranks: 2, timeout: .seconds(3))
        } throws: { error in
            guard case MPIRun.Failure.timedOut = error else { return false }
            return true
        }
        #expect(ContinuousClock.now - start < .seconds(15))
        #expect(survivingProcesses(running: "dtrain-comm-check hang").isEmpty)
    }

    @Test(arguments: [2, 4]) func stalledRankIsNamedThenTheJobEndsAtTheTimeout(ranks: Int) throws {
        let result = try runCheck("stall", ranks: ranks, timeout: .seconds(30))
        #expect(result.status == 4, "\(result.stderr)")
        let lines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("dtrain: rank 0: stalled: ") }
        #expect(lines.count == 2, "one warning and one final line from rank 0:\n\(result.stderr)")
        for line in lines {
            #expect(line.contains("rank \(ranks - 1) (host ") && line.contains(", pid ")
                    && line.contains(" has not reached MPI_Allreduce of 1 Float elements during the stall scenario"),
                    "\(line)")
        }
        #expect(lines.last?.hasSuffix("; ending the job") == true, "\(result.stderr)")
        // 3 s of timeout, then MPI_Abort ends the stopped rank too.
        #expect(result.seconds < 25, "\(result.seconds) s")
        #expect(survivingProcesses(running: "dtrain-comm-check stall").isEmpty)
    }

    @Test(arguments: [1, 2, 4]) func bucketedReducerGivesExactSumsOnRealRanks(ranks: Int) throws {
        try expectAll("bucketed", ranks: ranks,
                      "11 buckets, first of 1000, 10 steps alternating with the flat reducer: sums exact")
    }

    @Test(arguments: [2, 4]) func bfloat16SumsStayWithinTheirBoundAndAgreeOnRealRanks(ranks: Int) throws {
        for (rank, payload) in try payloads("bfloat16", ranks: ranks) {
            #expect(payload.hasPrefix("error within the bound, the same bits on every rank"), "rank \(rank): \(payload)")
            guard rank == 0 else { continue }
            print("bfloat16 on \(ranks) MPI ranks: \(payload)")
            // float32 sums would sit near 2^-16 of the bound: the values did travel as bfloat16.
            let worst = payload.split(separator: "(worst ").last.flatMap { Double($0.prefix { $0 != " " }) }
            #expect(worst.map { $0 > 0.05 } == true, "\(payload)")
        }
    }

    /// The communication thread's allreduces are the watched collectives: a rank that never sends its first
    /// bucket is named, and the job ends at the timeout.
    @Test(arguments: [2, 4]) func rankStalledBeforeItsFirstBucketIsNamed(ranks: Int) throws {
        let result = try runCheck("bucketed-stall", ranks: ranks, timeout: .seconds(30))
        #expect(result.status == 4, "\(result.stderr)")
        let lines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("dtrain: rank 0: stalled: ") }
        #expect(lines.count == 2, "one warning and one final line from rank 0:\n\(result.stderr)")
        for line in lines {
            #expect(line.contains("rank \(ranks - 1) (host ")
                    && line.contains(" has not reached MPI_Allreduce of 1000 Float elements during the bucketed stall scenario"),
                    "\(line)")
        }
        #expect(lines.last?.hasSuffix("; ending the job") == true, "\(result.stderr)")
        #expect(!result.stdout.contains("returned from a collective"), "\(result.stdout)")
        #expect(survivingProcesses(running: "dtrain-comm-check bucketed-stall").isEmpty)
    }

    @Test func rankStoppedInsideACollectiveIsNamed() throws {
        let result = try runCheck("stop-inside", ranks: 2, timeout: .seconds(60))
        #expect(result.status == 4, "\(result.stderr)")
        let lines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("dtrain: rank 0: stalled: rank 1 (host ") }
        // Stopped while waiting for the others' announcements or inside MPI_Allreduce itself: named either way.
        #expect(lines.count == 2, "\(result.stderr)")
        #expect(lines.allSatisfy { $0.contains("has stopped inside MPI_Allreduce") || $0.contains("has not reached MPI_Allreduce") },
                "\(result.stderr)")
        #expect(survivingProcesses(running: "dtrain-comm-check stop-inside").isEmpty)
    }

    @Test func lateRankIsNamedAndWaitingDoesNotBurnTheCore() throws {
        let result = try runCheck("late", ranks: 2)
        #expect(result.status == 0, "\(result.stderr)")
        let warnings = result.stderr.split(separator: "\n").filter { $0.hasPrefix("dtrain: rank 0: ") }
        #expect(warnings.count == 2, "\(result.stderr)")
        #expect(warnings.first?.contains("stalled: rank 1 (host ") == true, "\(result.stderr)")
        #expect(warnings.last?.contains("the stall in MPI_Allreduce of 1 Float elements during the late scenario ended after") == true,
                "\(result.stderr)")
        let line = result.stdout.split(separator: "\n").first { $0.hasPrefix("late rank 0 of 2: sum 2.0, cpu ") }
        let share = line.flatMap { Double($0.split(separator: " ")[8].dropLast()) }
        // Polling sleeps up to 1 ms between tests: a few percent of a core, far from the 100% of a busy wait.
        #expect(share.map { $0 < 25 } == true, "\(result.stdout)")
    }

    /// A failure must end the job within seconds, and no rank may pass the collective the failing rank abandoned.
    private func expectNoRankWentOn(_ result: MPIRun.Result) {
        #expect(result.seconds < 30)
        #expect(!result.stdout.contains("returned from a collective"), "\(result.stdout)")
        #expect(!result.stdout.contains("survived"), "\(result.stdout)")
    }

    /// The pids of processes whose command line contains `command`.
    private func survivingProcesses(running command: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { entry in
            guard Int(entry) != nil, let raw = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else {
                return false
            }
            let line = String(decoding: raw.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
            return line.contains(command)
        }
    }
}
