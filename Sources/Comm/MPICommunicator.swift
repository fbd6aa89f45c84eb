import CMPI
import Foundation

/// The communicator of an MPI job: all ranks of MPI_COMM_WORLD.
///
/// MPI can be initialised only once per process, so `start()` hands out one shared instance. Every MPI call passes
/// through one lock, which is why MPI_THREAD_SERIALIZED is requested: any thread may use the communicator, and
/// collectives from several threads run one after another.
///
/// Collectives never block inside MPI: each starts as a non-blocking collective and is polled, spinning for its
/// first 2 ms and then sleeping between polls with a growing pause of up to 1 ms (small next to any collective
/// that lasts that long), so a rank that waits for a late one does not burn its core. Every rank tells the others
/// which collective it enters (`ArrivalBoard`); a rank that has waited `stallPolicy.warningSeconds` knows which
/// ranks are late, and the lowest rank that is not late prints one line naming them, the collective and
/// `activity`; after `stallPolicy.timeoutSeconds` the job ends with `stallStatus`.
///
/// How the process ends decides how MPI ends:
/// - Returning from main or `exit(0)` finalises MPI (an exit handler calls `finish()`) after a barrier, so a rank
///   that ends normally waits for the others: ranks must issue the same collectives (see `agree(_:)`), and a rank
///   that never arrives ends the job at the stall timeout.
/// - `exit` with a non-zero status on a job of several ranks calls MPI_Abort with that status, because finalising
///   would wait for ranks that may be blocked in a collective with this one; the whole job ends instead of hanging.
///   In a job of one rank it finalises quietly.
/// - A Swift runtime trap (fatalError, precondition, overflow) kills the process by a signal without exit handlers;
///   mpirun sees a rank die and ends the others.
/// - An MPI call that fails prints "rank R: <call> failed: <reason>" and aborts the job with `failureStatus`.
public final class MPICommunicator: Communicator, @unchecked Sendable {
    /// The exit status of a job ended by a failed MPI call (status 2 is reserved for user mistakes).
    public static let failureStatus: Int32 = 3
    /// The exit status of a job ended because a rank did not reach a collective within the stall timeout.
    public static let stallStatus: Int32 = 4
    /// How long a poll spins before it starts sleeping, and the longest sleep between two polls.
    private static let spinSeconds = 0.002, longestPauseSeconds = 0.001

    /// This process's index in MPI_COMM_WORLD.
    public let rank: Int
    /// The number of ranks in MPI_COMM_WORLD.
    public let size: Int
    /// This process's index among the ranks on the same node (shared memory), for choosing cores and BLAS threads.
    public let localRank: Int
    /// The number of ranks on this node.
    public let localSize: Int
    /// The name MPI gives this node, usually the host name.
    public let processorName: String
    /// The thread support MPI granted; MPI_THREAD_SERIALIZED was requested.
    public let threadSupport: ThreadSupport
    /// Every rank's host and process id, by rank.
    public let identities: [RankIdentity]

    /// Where the communicator is in its life.
    private enum State { case running, finished, aborting }

    nonisolated(unsafe) private static var shared: MPICommunicator?
    private static let startLock = NSLock()

    private let world: MPI_Comm
    /// Held for the duration of every MPI call, so that calls from several threads are serialised.
    private let callLock = NSLock()
    /// Held for the duration of every collective, so that collectives from several threads do not interleave.
    private let collectiveLock = NSLock()
    /// Guards `state`, `pieceLimit`, `policy` and `currentActivity`; never held across an MPI call.
    private let stateLock = NSLock()
    private var state = State.running
    private var pieceLimit = Int(Int32.max)
    private var policy = StallPolicy.standard
    private var currentActivity = "start-up"
    /// Who has entered which collective; nil in a job of one rank. Used under `callLock`.
    private let board: ArrivalBoard?
    /// The number of the collective in progress or last finished; used under `collectiveLock`.
    private var sequence: Int64 = 0

    /// When a waiting collective names late ranks, and when it ends the job.
    public var stallPolicy: StallPolicy {
        get { stateLock.withLock { policy } }
        set { stateLock.withLock { policy = newValue } }
    }

    /// What the ranks are doing, for the line that names late ranks ("step 120", "evaluation after epoch 3").
    public var activity: String {
        get { stateLock.withLock { currentActivity } }
        set { stateLock.withLock { currentActivity = newValue } }
    }

    /// The most elements (bytes for broadcast) one MPI call carries; longer buffers are reduced in several calls.
    ///
    /// MPI counts are Int32, hence the default `Int32.max`; tests lower it to exercise the splitting on small buffers.
    package var maximumCountPerCall: Int {
        get { stateLock.withLock { pieceLimit } }
        set {
            precondition(newValue > 0 && newValue <= Int(Int32.max), "maximumCountPerCall must be in 1...Int32.max")
            stateLock.withLock { pieceLimit = newValue }
        }
    }

    /// Initialises MPI on first use and returns the communicator of all ranks; later calls return the same instance.
    ///
    /// Safe to call from several threads at once. Without mpirun, MPI starts as a singleton: rank 0 of 1.
    public static func start() -> MPICommunicator {
        startLock.withLock {
            if let shared { return shared }
            let communicator = MPICommunicator()
            shared = communicator
            registerExitHandler()
            return communicator
        }
    }

    private init() {
        var initialised: Int32 = 0
        MPI_Initialized(&initialised)
        var granted: Int32 = 0
        if initialised != 0 {
            MPI_Query_thread(&granted)
        } else {
            // Failures before MPI_ERRORS_RETURN is set end the process inside MPI with its own message.
            MPI_Init_thread(nil, nil, ThreadSupport.serialized.level, &granted)
        }
        threadSupport = ThreadSupport(level: granted)
        world = dtrain_mpi_comm_world()
        MPI_Comm_set_errhandler(world, dtrain_mpi_errors_return())

        var value: Int32 = 0
        MPI_Comm_rank(world, &value)
        rank = Int(value)
        MPI_Comm_size(world, &value)
        size = Int(value)

        var local = dtrain_mpi_comm_null()
        let split = MPI_Comm_split_type(world, Int32(MPI_COMM_TYPE_SHARED), 0, dtrain_mpi_info_null(), &local)
        if split == MPI_SUCCESS {
            MPI_Comm_rank(local, &value)
            localRank = Int(value)
            MPI_Comm_size(local, &value)
            localSize = Int(value)
            MPI_Comm_free(&local)
        } else {
            localRank = 0
            localSize = 0
        }

        var name = [CChar](repeating: 0, count: Int(MPI_MAX_PROCESSOR_NAME) + 1)
        var length: Int32 = 0
        MPI_Get_processor_name(&name, &length)
        processorName = String(decoding: name.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)

        let (gathered, identities) = Self.gatherIdentities(world, size: size, host: processorName)
        self.identities = identities
        board = size > 1 ? ArrivalBoard(world: world, rank: rank, size: size) : nil

        if split != MPI_SUCCESS {
            abort("MPI_Comm_split_type failed: \(Self.describe(split))", code: Self.failureStatus)
        }
        if gathered != MPI_SUCCESS {
            abort("MPI_Allgather of the ranks' hosts failed: \(Self.describe(gathered))", code: Self.failureStatus)
        }
        if size > 1, board == nil { abort("MPI_Comm_dup failed", code: Self.failureStatus) }
    }

    /// Every rank's host name and process id, exchanged once at start-up (a stalled rank cannot answer later).
    private static func gatherIdentities(_ world: MPI_Comm, size: Int, host: String) -> (Int32, [RankIdentity]) {
        let recordBytes = 256
        var mine = [UInt8](repeating: 0, count: recordBytes)
        let text = Array("\(getpid()) \(host)".utf8.prefix(recordBytes - 1))
        mine.replaceSubrange(0..<text.count, with: text)
        var all = [UInt8](repeating: 0, count: recordBytes * size)
        let result = MPI_Allgather(&mine, Int32(recordBytes), dtrain_mpi_byte(), &all, Int32(recordBytes),
                                   dtrain_mpi_byte(), world)
        let identities = (0..<size).map { rank in
            let record = all[(rank * recordBytes)..<((rank + 1) * recordBytes)].prefix { $0 != 0 }
            let fields = String(decoding: record, as: UTF8.self).split(separator: " ", maxSplits: 1)
            return RankIdentity(rank: rank, host: fields.count > 1 ? String(fields[1]) : "?",
                                pid: fields.first.flatMap { Int32($0) } ?? 0)
        }
        return (result, identities)
    }

    /// Replaces every element of `buffer` with its reduction over all ranks.
    public func allreduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ operation: ReduceOperation) {
        reduce(buffer, dtrain_mpi_float(), operation)
    }

    /// Replaces every element of `buffer` with its reduction over all ranks.
    public func allreduce(_ buffer: UnsafeMutableBufferPointer<Double>, _ operation: ReduceOperation) {
        reduce(buffer, dtrain_mpi_double(), operation)
    }

    /// Replaces every element of `buffer` with its reduction over all ranks.
    public func allreduce(_ buffer: UnsafeMutableBufferPointer<Int64>, _ operation: ReduceOperation) {
        reduce(buffer, dtrain_mpi_int64(), operation)
    }

    /// Copies `root`'s bytes into the buffers of all other ranks.
    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) {
        guard let base = buffer.baseAddress else { return }
        for piece in Pieces(count: buffer.count, limit: maximumCountPerCall) {
            let call = "MPI_Ibcast of \(piece.count) bytes from root \(root)"
            let result = collective(call) { request in
                MPI_Ibcast(base + piece.lowerBound, Int32(piece.count), dtrain_mpi_byte(), Int32(clamping: root), world,
                           &request)
            }
            check(result, call)
        }
    }

    /// Returns once every rank has entered the barrier.
    public func barrier() {
        check(collective("MPI_Ibarrier") { MPI_Ibarrier(world, &$0) }, "MPI_Ibarrier")
    }

    /// Ends every rank of the job with `code` (after the caller printed its message).
    ///
    /// A job of one rank finalises and exits instead, sparing the user Open MPI's abort banner.
    public func abort(code: Int32) -> Never {
        if size > 1, transition(from: .running, to: .aborting) {
            abortJob(code)
        }
        finish()
        exit(code)
    }

    /// Finalises MPI; later calls do nothing, and no MPI call may follow.
    ///
    /// Runs by itself when the process exits, so calling it is needed only to end MPI earlier. The ranks meet in a
    /// barrier first, which the stall watchdog covers: MPI_Finalize itself would wait for a stalled rank forever.
    public func finish() {
        if size > 1, stateLock.withLock({ state == .running }) { barrier() }
        callLock.withLock {
            guard transition(from: .running, to: .finished) else { return }
            board?.close()
            MPI_Finalize()
        }
    }

    /// Calls MPI_Abort under the call lock, which another thread holds at most for one poll of a collective; if
    /// that thread is stuck inside MPI (start-up or finalisation), the abort goes ahead after a second anyway.
    private func abortJob(_ code: Int32) {
        let locked = callLock.lock(before: Date(timeIntervalSinceNow: 1))
        MPI_Abort(world, code)
        if locked { callLock.unlock() }
    }

    private func reduce<Element>(
        _ buffer: UnsafeMutableBufferPointer<Element>, _ datatype: MPI_Datatype, _ operation: ReduceOperation
    ) {
        guard let base = buffer.baseAddress else { return }
        let op = switch operation {
        case .sum: dtrain_mpi_sum()
        case .max: dtrain_mpi_max()
        case .min: dtrain_mpi_min()
        }
        for piece in Pieces(count: buffer.count, limit: maximumCountPerCall) {
            let call = "MPI_Iallreduce of \(piece.count) \(Element.self) elements"
            let result = collective(call) { request in
                MPI_Iallreduce(dtrain_mpi_in_place(), base + piece.lowerBound, Int32(piece.count), datatype, op, world,
                               &request)
            }
            check(result, call)
        }
    }

    /// Announces the next collective to the other ranks, starts it with `start`, and polls it to completion,
    /// naming late ranks and ending the job as `stallPolicy` says; returns the first failing MPI result.
    private func collective(_ call: String, _ start: (inout MPI_Request?) -> Int32) -> Int32 {
        collectiveLock.withLock {
            sequence += 1
            var request = dtrain_mpi_request_null()
            let started = serialized { () -> Int32 in
                board?.announce(sequence)
                return start(&request)
            }
            guard started == MPI_SUCCESS else { return started }
            let begin = ContinuousClock.now
            var pause = 0.00001, warned = false
            while true {
                var done: Int32 = 0
                let result = serialized { MPI_Test(&request, &done, dtrain_mpi_status_ignore()) }
                guard result == MPI_SUCCESS else { return result }
                let waited = (ContinuousClock.now - begin) / .seconds(1)
                if done != 0 {
                    serialized { board?.collect() }
                    if warned { reportStall(call, waited: waited, ended: true) }
                    return MPI_SUCCESS
                }
                guard waited >= Self.spinSeconds else { continue }
                let policy = stallPolicy
                if !warned, waited >= policy.warningSeconds {
                    warned = true
                    reportStall(call, waited: waited)
                }
                if policy.timeoutSeconds > 0, waited >= policy.timeoutSeconds {
                    endStalledJob(call, waited: waited)
                }
                usleep(UInt32(pause * 1e6))
                pause = min(2 * pause, Self.longestPauseSeconds)
            }
        }
    }

    /// The ranks that have not entered collective `sequence` yet, and whether this rank is the one that reports
    /// them (the lowest rank that is not late, so that exactly one line appears).
    private func lateRanks() -> (late: [Int], reporter: Bool) {
        guard let board else { return ([], false) }
        let late = serialized { () -> [Int] in
            board.collect()
            return board.late(for: sequence)
        }
        let reporter = (0..<size).first { !late.contains($0) } == rank
        return (late, reporter)
    }

    /// One line from the reporting rank: who is late, in which collective, during what, for how long.
    private func reportStall(_ call: String, waited: Double, ended: Bool = false) {
        let (late, reporter) = lateRanks()
        guard reporter else { return }
        let message = ended
            ? String(format: "the stall in %@ during %@ ended after %.1f s", call, activity, waited)
            : String(format: "stalled: %@ not reached %@ during %@ after %.1f s", describe(late), call, activity, waited)
                + (stallPolicy.timeoutSeconds > 0
                    ? String(format: "; the job ends if they have not after %.0f s", stallPolicy.timeoutSeconds) : "")
        printLine("dtrain: rank \(rank): \(message)")
    }

    /// Ends the job after the stall timeout; the reporter says why first, the others give it a moment to.
    private func endStalledJob(_ call: String, waited: Double) -> Never {
        let (late, reporter) = lateRanks()
        if reporter {
            printLine(String(format: "dtrain: rank %d: stalled: %@ not reached %@ during %@ after %.1f s; ending the job",
                             rank, describe(late), call, activity, waited))
        } else {
            sleep(2)
        }
        abort(code: Self.stallStatus)
    }

    private func describe(_ late: [Int]) -> String {
        let named = late.map { identities[$0].description }
        let list = named.count <= 8 ? named.joined(separator: ", ")
            : named.prefix(8).joined(separator: ", ") + " and \(named.count - 8) more"
        return list + (late.count == 1 ? " has" : " have")
    }

    /// One write, so that the line stays whole among the other ranks' output.
    private func printLine(_ text: String) {
        var line = text + "\n"
        line.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    /// Runs MPI calls under the call lock, after checking that MPI is still running.
    private func serialized<Result>(_ call: () -> Result) -> Result {
        callLock.withLock {
            let current = stateLock.withLock { state }
            precondition(current == .running, "rank \(rank): MPI call after MPICommunicator.finish()")
            return call()
        }
    }

    /// Turns a failed MPI call into a message and the end of the job, since the other ranks cannot go on without it.
    private func check(_ result: Int32, _ call: String) {
        guard result != MPI_SUCCESS else { return }
        abort("\(call) failed: \(Self.describe(result))", code: Self.failureStatus)
    }

    private func transition(from old: State, to new: State) -> Bool {
        stateLock.withLock {
            guard state == old else { return false }
            state = new
            return true
        }
    }

    private static func describe(_ code: Int32) -> String {
        var text = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        return String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Ends MPI as the exit status demands (see the type's documentation).
    private func end(exitStatus: Int32) {
        if exitStatus != 0, size > 1 {
            if transition(from: .running, to: .aborting) { abortJob(exitStatus) }
        } else {
            finish()
        }
    }

    private static func registerExitHandler() {
        #if canImport(Glibc)
        // on_exit, unlike atexit, passes the exit status, which decides between finalising and aborting.
        on_exit({ status, _ in
            MPICommunicator.startLock.withLock { MPICommunicator.shared }?.end(exitStatus: status)
        }, nil)
        #else
        atexit { MPICommunicator.startLock.withLock { MPICommunicator.shared }?.finish() }
        #endif
    }
}
