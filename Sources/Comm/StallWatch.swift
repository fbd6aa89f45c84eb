import Foundation

/// A thread that watches the collective in progress and turns a stall into one line, then into the end of the job.
///
/// The thread looks at the collective in progress ten times a second (a collective's begin and end only set a
/// field, so a normal step pays no thread wake-ups); once one has lasted `StallPolicy.warningSeconds`, the lowest
/// rank that is not
/// late prints the line that names the late ranks (those that have not announced the collective yet). When every
/// rank has announced it but it has not completed, a rank stopped inside it is named if it runs on this host (its
/// process state in /proc is "stopped"); otherwise the line says that every rank reached it. At `timeoutSeconds`
/// that rank prints
/// the line again and ends its process with `MPICommunicator.stallStatus`, and mpirun ends the others; the other
/// ranks give it two seconds before they do the same, in case the reporter itself is the one that stalled. The
/// thread makes no MPI call, so it needs no more than MPI_THREAD_SERIALIZED and works while the collective blocks.
final class StallWatch: @unchecked Sendable {
    private struct Collective {
        let call: String, activity: String, policy: StallPolicy
        let start: ContinuousClock.Instant
        var late: [Int] = []
        var warned = false
    }

    private let rank: Int
    private let identities: [RankIdentity]
    /// How often the thread looks.
    private static let interval = 0.1
    private let lock = NSLock()
    private var current: Collective?

    init(rank: Int, identities: [RankIdentity]) {
        self.rank = rank
        self.identities = identities
        let thread = Thread { [unowned self] in watch() }
        thread.name = "dtrain stall watch"
        thread.start()
    }

    /// A collective begins: `call` names it, `activity` says what the ranks are doing.
    func begin(_ call: String, activity: String, policy: StallPolicy) {
        lock.withLock { current = Collective(call: call, activity: activity, policy: policy, start: .now) }
    }

    /// The ranks that have not announced the collective yet, as far as this rank knows.
    func update(late: [Int]) {
        lock.withLock { current?.late = late }
    }

    /// The collective has completed; a stall that was reported is reported as ended.
    func end() {
        let ended: Collective? = lock.withLock {
            defer { current = nil }
            return current
        }
        if let ended, ended.warned, isReporter(ended) {
            let waited = (ContinuousClock.now - ended.start) / .seconds(1)
            printLine(String(format: "the stall in %@ during %@ ended after %.1f s", ended.call, ended.activity, waited))
        }
    }

    private func watch() {
        while true {
            Thread.sleep(forTimeInterval: Self.interval)
            lock.lock()
            guard var collective = current else {
                lock.unlock()
                continue
            }
            let policy = collective.policy
            let waited = (ContinuousClock.now - collective.start) / .seconds(1)
            if !collective.warned, waited >= policy.warningSeconds {
                collective.warned = true
                current = collective
                lock.unlock()
                if isReporter(collective) {
                    printLine(describe(collective, waited: waited) + (policy.timeoutSeconds > 0
                        ? String(format: "; the job ends if it has not completed after %.0f s", policy.timeoutSeconds)
                        : ""))
                }
            } else if collective.warned, policy.timeoutSeconds > 0, waited >= policy.timeoutSeconds {
                lock.unlock()
                if !isReporter(collective) { sleep(2) }
                printLine(describe(collective, waited: waited) + "; ending the job")
                _exit(MPICommunicator.stallStatus)
            } else {
                lock.unlock()
            }
        }
    }

    /// Whether this rank is the lowest one that has neither stalled nor is late, the one whose line appears.
    private func isReporter(_ collective: Collective) -> Bool {
        let stalled = collective.late.isEmpty ? stoppedNeighbours() : collective.late
        return identities.indices.first { !stalled.contains($0) } == rank
    }

    /// The other ranks on this host whose processes are stopped (a SIGSTOP, a debugger), read from /proc.
    private func stoppedNeighbours() -> [Int] {
        let host = identities[rank].host
        return identities.filter { $0.rank != rank && $0.host == host }.compactMap { peer in
            guard let stat = try? String(contentsOfFile: "/proc/\(peer.pid)/stat", encoding: .utf8),
                  let nameEnd = stat.lastIndex(of: ")") else { return nil }
            // The state follows the parenthesised command name: T stopped, t stopped by a tracer.
            let state = stat[stat.index(after: nameEnd)...].split(separator: " ").first
            return state == "T" || state == "t" ? peer.rank : nil
        }
    }

    private func describe(_ collective: Collective, waited: Double) -> String {
        let during = "\(collective.call) during \(collective.activity)"
        guard !collective.late.isEmpty else {
            let stopped = stoppedNeighbours()
            guard !stopped.isEmpty else {
                return String(format: "stalled: every rank reached %@, which has not completed after %.1f s", during, waited)
            }
            let verb = stopped.count == 1 ? "has" : "have"
            return String(format: "stalled: %@ %@ stopped inside %@ after %.1f s", list(stopped), verb, during, waited)
        }
        return String(format: "stalled: %@ %@ not reached %@ after %.1f s", list(collective.late),
                      collective.late.count == 1 ? "has" : "have", during, waited)
    }

    /// "rank 1 (host h, pid p), rank 3 (...)", at most eight named.
    private func list(_ ranks: [Int]) -> String {
        let named = ranks.map { identities[$0].description }
        return named.count <= 8 ? named.joined(separator: ", ")
            : named.prefix(8).joined(separator: ", ") + " and \(named.count - 8) more"
    }

    /// "dtrain: rank R: <text>" in one write, so that the line stays whole among the other ranks' output.
    private func printLine(_ text: String) {
        var line = "dtrain: rank \(rank): \(text)\n"
        line.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
