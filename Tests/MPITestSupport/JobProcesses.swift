import Foundation

/// The processes of an MPI job a test started, found from the parent links in /proc, so that a test can stop one
/// rank and check afterwards that every process of the job has ended.
public enum JobProcesses {
    /// Every process below `root`.
    public static func descendants(of root: pid_t) -> [pid_t] {
        var children: [pid_t: [pid_t]] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry), let fields = statFields(pid), fields.count > 1,
                  let parent = pid_t(fields[1]) else { continue }
            children[parent, default: []].append(pid)
        }
        var found: [pid_t] = [], pending = [root]
        while let next = pending.popLast() {
            let below = children[next] ?? []
            found += below
            pending += below
        }
        return found
    }

    /// The dtrain ranks below `root` by their rank (Open MPI puts OMPI_COMM_WORLD_RANK in their environment).
    public static func ranks(under root: pid_t) -> [Int: pid_t] {
        var ranks: [Int: pid_t] = [:]
        for pid in descendants(of: root) {
            guard let environment = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ")) else { continue }
            for variable in environment.split(separator: 0) {
                let text = String(decoding: variable, as: UTF8.self)
                if text.hasPrefix("OMPI_COMM_WORLD_RANK="), let rank = Int(text.dropFirst(21)) { ranks[rank] = pid }
            }
        }
        return ranks
    }

    /// Whether `pid` is a live process (a zombie has ended; only its parent has yet to collect it).
    public static func isRunning(_ pid: pid_t) -> Bool {
        guard let fields = statFields(pid), let state = fields.first else { return false }
        return state != "Z"
    }

    /// Those of `pids` still live after up to `grace`: a rank killed as mpirun ends may take a few milliseconds to
    /// exit (freeing its memory) after mpirun itself has gone, while a rank left behind stays.
    public static func stillRunning(_ pids: [pid_t], after grace: Duration) -> [pid_t] {
        let deadline = ContinuousClock.now + grace
        while pids.contains(where: isRunning) && ContinuousClock.now < deadline { usleep(10_000) }
        return pids.filter(isRunning)
    }

    /// The state letter of `pid` in /proc ("R", "S", "T" for stopped, ...), "" once it has gone.
    public static func state(of pid: pid_t) -> String { statFields(pid)?.first.map(String.init) ?? "" }

    /// The command line of `pid`, its arguments joined by spaces ("" once it has ended).
    public static func commandLine(of pid: pid_t) -> String {
        guard let bytes = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")) else { return "" }
        return bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
    }

    /// The fields of /proc/PID/stat after the parenthesised command name: state, parent, group, session, ...
    private static func statFields(_ pid: pid_t) -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let nameEnd = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: nameEnd)...].split(separator: " ")
    }
}
