import CMPI
import Foundation

/// The communicator of an MPI job: all ranks of MPI_COMM_WORLD.
///
/// MPI can be initialised only once per process, so `start()` hands out one shared instance. Every MPI call passes
/// through one lock, which is why MPI_THREAD_SERIALIZED is requested: any thread may use the communicator, and
/// collectives from several threads run one after another.
///
/// Every rank tells the others which collective it enters (`ArrivalBoard`) and starts it only once every rank has:
/// that wait polls, spinning for its first 2 ms and then sleeping between polls with a growing pause of up to
/// 1 ms, so a rank that waits for a late one does not burn its core. A `StallWatch` thread times each collective:
/// after `stallPolicy.warningSeconds` the lowest rank that is not late prints one line naming the late ranks (host,
/// pid), the collective and `activity`; after `stallPolicy.timeoutSeconds` the job ends with `stallStatus`.
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
    /// Times the collective in progress and reports stalls; nil in a job of one rank.
    private let watch: StallWatch?
    /// The number of the collective in progress or last finished; used under `collectiveLock`.
    private var sequence: Int64 = 0
    /// The bfloat16 sum (float32 at every hop), a user-defined MPI operation.
    private var bfloat16Sum: MPI_Op?

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

        var bfloat16Sum = dtrain_mpi_op_null()
        let created = dtrain_mpi_op_create_bf16_sum(&bfloat16Sum)
        self.bfloat16Sum = bfloat16Sum
        let (gathered, identities) = Self.gatherIdentities(world, size: size, host: processorName)
        self.identities = identities
        board = size > 1 ? ArrivalBoard(world: world, rank: rank, size: size) : nil
        watch = size > 1 ? StallWatch(rank: rank, identities: identities) : nil

        if split != MPI_SUCCESS {
            abort("MPI_Comm_split_type failed: \(Self.describe(split))", code: Self.failureStatus)
        }
        if created != MPI_SUCCESS {
            abort("MPI_Op_create of the bfloat16 sum failed: \(Self.describe(created))", code: Self.failureStatus)
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
        reduce(buffer, dtrain_mpi_float(), Self.op(operation), "Float")
    }

    /// Replaces every element of `buffer` with its reduction over all ranks.
    public func allreduce(_ buffer: UnsafeMutableBufferPointer<Double>, _ operation: ReduceOperation) {
        reduce(buffer, dtrain_mpi_double(), Self.op(operation), "Double")
    }

    /// Replaces every element of `buffer` with its reduction over all ranks.
    public func allreduce(_ buffer: UnsafeMutableBufferPointer<Int64>, _ operation: ReduceOperation) {
        reduce(buffer, dtrain_mpi_int64(), Self.op(operation), "Int64")
    }

    /// Replaces every bfloat16 element of `buffer` with its sum over all ranks, added in float32 at every hop of
    /// MPI's algorithm (a user-defined operation) and rounded to bfloat16 between hops.
    public func allreduceBFloat16Sum(_ buffer: UnsafeMutableBufferPointer<UInt16>) {
        reduce(buffer, dtrain_mpi_uint16(), bfloat16Sum, "bfloat16")
    }

    /// Copies `root`'s bytes into the buffers of all other ranks.
    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) {
        guard let base = buffer.baseAddress else { return }
        for piece in Pieces(count: buffer.count, limit: maximumCountPerCall) {
            let call = "MPI_Bcast of \(piece.count) bytes from root \(root)"
            let result = collective(call) {
                MPI_Bcast(base + piece.lowerBound, Int32(piece.count), dtrain_mpi_byte(), Int32(clamping: root), world)
            }
            check(result, call)
        }
    }

    /// Returns once every rank has entered the barrier.
    public func barrier() {
        check(collective("MPI_Barrier") { MPI_Barrier(world) }, "MPI_Barrier")
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
            MPI_Op_free(&bfloat16Sum)
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

    private static func op(_ operation: ReduceOperation) -> MPI_Op? {
        switch operation {
        case .sum: dtrain_mpi_sum()
        case .max: dtrain_mpi_max()
        case .min: dtrain_mpi_min()
        }
    }

    private func reduce<Element>(
        _ buffer: UnsafeMutableBufferPointer<Element>, _ datatype: MPI_Datatype, _ op: MPI_Op?, _ name: String
    ) {
        guard let base = buffer.baseAddress else { return }
        for piece in Pieces(count: buffer.count, limit: maximumCountPerCall) {
            let call = "MPI_Allreduce of \(piece.count) \(name) elements"
            let result = collective(call) {
                MPI_Allreduce(dtrain_mpi_in_place(), base + piece.lowerBound, Int32(piece.count), datatype, op, world)
            }
            check(result, call)
        }
    }

    /// Announces the next collective to the other ranks, waits until all of them have announced it too, then runs
    /// it with `operation`; returns its MPI result.
    ///
    /// The wait polls with backoff, so a rank that waits for a late one does not burn its core, and it is what the
    /// stall watch times; the collective itself then starts with every rank present and takes only its transfer
    /// time (MPI's blocking collectives are several times faster here than its non-blocking ones).
    private func collective(_ call: String, _ operation: () -> Int32) -> Int32 {
        collectiveLock.withLock {
            sequence += 1
            guard let board, let watch else { return serialized(operation) }
            watch.begin(call, activity: activity, policy: stallPolicy)
            defer { watch.end() }
            serialized { board.announce(sequence) }
            let begin = ContinuousClock.now
            var pause = 0.00001
            while true {
                let late = serialized { () -> [Int] in
                    board.collect()
                    return board.late(for: sequence)
                }
                if late.isEmpty { break }
                watch.update(late: late)
                guard (ContinuousClock.now - begin) / .seconds(1) >= Self.spinSeconds else { continue }
                usleep(UInt32(pause * 1e6))
                pause = min(2 * pause, Self.longestPauseSeconds)
            }
            watch.update(late: [])
            return serialized(operation)
        }
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
