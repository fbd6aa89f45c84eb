import Foundation
import MPITestSupport
import Testing

/// The communicator across real ranks: dtrain-comm-check under mpirun with 2 and 4 ranks.
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

    private func runCheck(_ scenario: String, ranks: Int, timeout: Duration = .seconds(60)) throws -> MPIRun.Result {
        try MPIRun.run(executable: MPIRun.product(named: "dtrain-comm-check"), arguments: [scenario], ranks: ranks,
                       timeout: timeout)
    }

    /// Expects every rank to have printed `expected`.
    private func expectAll(_ scenario: String, ranks: Int, _ expected: String) throws {
        for (rank, payload) in try payloads(scenario, ranks: ranks) {
            #expect(payload == expected, "rank \(rank) of \(ranks)")
        }
    }

    @Test(arguments: [2, 4]) func allreduceSumMaxMinForEveryElementType(ranks: Int) throws {
        let sum = ranks * (ranks + 1) / 2
        let floating = "sum \(Double(sum)) max \(Double(ranks)) min 1.0"
        try expectAll("allreduce", ranks: ranks,
                      "float \(floating), double \(floating), int64 sum \(sum) max \(ranks) min 1")
    }

    @Test(arguments: [2, 4]) func allreduceWritesInPlaceAndNowhereElse(ranks: Int) throws {
        let sum = Float(ranks * (ranks + 1) / 2)
        let doubleSum = Double(ranks * ranks) / 2
        try expectAll("in-place", ranks: ranks, "slice sum \(sum), sentinels intact, double sum \(doubleSum), "
            + "int max \((ranks - 1) * 1_000_000_000_000)")
    }

    @Test(arguments: [2, 4]) func longBuffersTravelInPiecesUnderTheLimit(ranks: Int) throws {
        let expected = "1001 elements reduced and broadcast in pieces of 3, pieces of three bytes"
        try expectAll("split", ranks: ranks, expected)
    }

    @Test(arguments: [2, 4]) func broadcastFromFirstAndLastRank(ranks: Int) throws {
        let expected = [0, ranks - 1].map { root in
            let text = String(repeating: "é", count: root) + "from rank \(root) ✓"
            let floats = (0...root).map { Float($0) + Float(root) / 10 }
            return "root \(root) bytes match \"\(text)\" \(floats) \(Int64(root) * -3)"
        }
        try expectAll("broadcast", ranks: ranks, expected.joined(separator: "; "))
    }

    @Test(arguments: [2, 4]) func barrierWaitsForTheLastRank(ranks: Int) throws {
        try expectAll("barrier", ranks: ranks, "left after the last rank entered")
    }

    @Test(arguments: [2, 4]) func agreeIsTrueOnlyWhenAllRanksPassTheSameValue(ranks: Int) throws {
        try expectAll("agree", ranks: ranks, "true false true false false")
    }

    @Test(arguments: [2, 4]) func localRanksAndThreadSupport(ranks: Int) throws {
        for (rank, payload) in try payloads("info", ranks: ranks) {
            #expect(payload == "local \(rank) of \(ranks), named, MPI_THREAD_SERIALIZED")
        }
    }

    @Test(arguments: [2, 4]) func finishTwiceThenExitNormally(ranks: Int) throws {
        try expectAll("finish", ranks: ranks, "finishing")
    }

    // MARK: Failures end the whole job quickly, never hang

    @Test(arguments: [2, 4]) func abortWithAMessageEndsEveryRank(ranks: Int) throws {
        let result = try runCheck("abort", ranks: ranks)
        #expect(result.status == 2)
        #expect(result.stderr.contains("rank \(ranks - 1): configuration differs from rank 0's"), "\(result.stderr)")
        expectNoRankWentOn(result)
    }

    @Test(arguments: [2, 4]) func failedMPICallIsReportedAndEndsEveryRank(ranks: Int) throws {
        let result = try runCheck("mpi-error", ranks: ranks)
        #expect(result.status == 3)
        let message = "rank \(ranks - 1): MPI_Bcast of 8 bytes from root \(ranks + 5) failed: MPI_ERR_ROOT"
        #expect(result.stderr.contains(message), "\(result.stderr)")
        expectNoRankWentOn(result)
    }

    @Test(arguments: [2, 4]) func nonZeroExitOnOneRankEndsEveryRank(ranks: Int) throws {
        let result = try runCheck("exit", ranks: ranks)
        #expect(result.status == 4, "\(result.stderr)")
        expectNoRankWentOn(result)
    }

    @Test(arguments: [2, 4]) func trapOnOneRankEndsEveryRank(ranks: Int) throws {
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
