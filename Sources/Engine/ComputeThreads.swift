#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import Foundation
import Synchronization

/// The threads of a rank that the engine's kernels split their work over, for the code run inside
/// `with(threads:)`: the calling thread and `threads - 1` workers that wait for work, spinning a little and then
/// asleep.
///
/// OpenBLAS runs on one thread beside them: the engine splits its GEMMs itself (by groups of images), so that one
/// set of threads, not two that spin against each other, owns the cores. Tasks are handed out one at a time, and a
/// kernel makes its result independent of which thread ran which task (every task writes its own outputs; scratch
/// is per thread), so results depend on the thread count only where a kernel says so. A nested `forEach` runs its
/// tasks on the calling thread.
public enum ComputeThreads {
    /// The threads a kernel called here may use (1 outside `with(threads:)`: everything runs on the calling thread).
    public static var count: Int { scoped?.threads ?? 1 }

    /// Runs `body` with `threads` threads (at least 1) for the kernels it calls on this thread, and OpenBLAS on one.
    /// Other threads (a data loader's, other tests') are not affected.
    public static func with<Result>(threads: Int, _ body: () throws -> Result) rethrows -> Result {
        precondition(threads >= 1, "ComputeThreads: \(threads) threads; expected at least 1")
        BLAS.setThreads(1)
        let pool = threads > 1 ? WorkerPool(threads: threads) : nil
        defer { pool?.stop() }
        return try $scoped.withValue(pool, operation: body)
    }

    /// The threads for one of `ranksOnNode` ranks on this machine: `OPENBLAS_NUM_THREADS` (or `OMP_NUM_THREADS`)
    /// when set, as launchers set them per rank, else an equal share of the cores.
    public static func perRank(ranksOnNode: Int) -> Int {
        let environment = ProcessInfo.processInfo.environment
        for name in ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"] {
            if let value = environment[name].flatMap({ Int($0) }), value >= 1 { return value }
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount / max(ranksOnNode, 1))
    }

    /// Runs `body(task, thread)` for every task in 0..<tasks and returns when all are done. `thread` (below
    /// `count`) names the scratch a task may use; no two tasks run on the same `thread` at once.
    public static func forEach(_ tasks: Int, _ body: (_ task: Int, _ thread: Int) -> Void) {
        if tasks <= 0 { return }
        guard tasks > 1, let workers = scoped, workers.begin() else {
            for task in 0..<tasks { body(task, 0) }
            return
        }
        withoutActuallyEscaping(body) { body in workers.run(tasks, body) }
    }

    /// Runs `body` over [0, count) cut into one contiguous range per thread, each of at least `grain` items (fewer
    /// ranges when there is little work). The ranges depend on the count and the thread count only.
    public static func forEachRange(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        let tasks = max(1, min(ComputeThreads.count, count / max(grain, 1)))
        if tasks == 1 {
            body(0..<count)
            return
        }
        forEach(tasks) { task, _ in body(count * task / tasks..<count * (task + 1) / tasks) }
    }

    @TaskLocal private static var scoped: WorkerPool?
}

/// Worker threads and the job they share. A job is published as one 64-bit word: its generation, its number of
/// tasks and the next task to take. A worker takes a task by advancing the word it read, so that a worker late from
/// an earlier job can never take a task of a later one, and it reads the job's body only once it holds a task (the
/// job cannot end before that task does).
final class WorkerPool: @unchecked Sendable {
    let threads: Int
    private let state = Atomic<UInt64>(0)
    private let remaining = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private var body: ((Int, Int) -> Void)?
    // Allocated, not stored properties: pthread objects must not move, and `&property` promises no fixed address.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var handles: [pthread_t] = []

    /// Tasks of one job: 20 bits of the word (generation: 24 bits).
    static let taskMask = (1 << 20) - 1
    private static let taskMaskWord = UInt64(taskMask)

    /// Spins of a worker between two jobs before it sleeps (about 50 µs): kernels follow each other closely.
    private static let spins = 20_000

    init(threads: Int) {
        self.threads = threads
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        for index in 1..<threads {
            let context = Unmanaged.passRetained(WorkerStart(pool: self, index: index)).toOpaque()
            var handle = pthread_t()
            let status = pthread_create(&handle, nil, { raw in
                let start = Unmanaged<WorkerStart>.fromOpaque(raw!).takeRetainedValue()
                start.pool.work(index: start.index)
                return nil
            }, context)
            precondition(status == 0, "ComputeThreads: cannot start a worker thread (error \(status))")
            handles.append(handle)
        }
    }

    /// Claims the pool for one job; false when another job holds it.
    func begin() -> Bool {
        busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    }

    /// Runs a job claimed by `begin()`, the caller taking tasks as thread 0.
    func run(_ count: Int, _ job: @escaping (Int, Int) -> Void) {
        precondition(count <= Self.taskMask, "ComputeThreads: \(count) tasks; at most \(Self.taskMask) at once")
        body = job
        remaining.store(count, ordering: .relaxed)
        let generation = ((state.load(ordering: .relaxed) >> 40) &+ 1) & 0xff_ffff
        state.store(generation << 40 | UInt64(count) << 20, ordering: .releasing)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        take(generation: generation, thread: 0)
        while remaining.load(ordering: .acquiring) > 0 {}
        body = nil
        busy.store(false, ordering: .releasing)
    }

    /// Takes and runs tasks of `generation` until none is left.
    private func take(generation: UInt64, thread: Int) {
        var word = state.load(ordering: .acquiring)
        while word >> 40 == generation {
            let task = Int(word & Self.taskMaskWord), tasks = Int(word >> 20 & Self.taskMaskWord)
            if task >= tasks { return }
            let (exchanged, original) = state.compareExchange(expected: word, desired: word + 1,
                                                              ordering: .acquiringAndReleasing)
            if !exchanged {
                word = original
                continue
            }
            body!(task, thread)
            remaining.subtract(1, ordering: .releasing)
            word = state.load(ordering: .acquiring)
        }
    }

    private func work(index: Int) {
        var seen: UInt64 = 0
        while !stopping.load(ordering: .relaxed) {
            var spins = 0
            var generation = state.load(ordering: .acquiring) >> 40
            while generation == seen && spins < Self.spins && !stopping.load(ordering: .relaxed) {
                spins += 1
                generation = state.load(ordering: .acquiring) >> 40
            }
            if generation == seen {
                pthread_mutex_lock(mutex)
                while state.load(ordering: .acquiring) >> 40 == seen && !stopping.load(ordering: .relaxed) {
                    pthread_cond_wait(wake, mutex)
                }
                pthread_mutex_unlock(mutex)
                continue
            }
            seen = generation
            take(generation: generation, thread: index)
        }
    }

    /// Ends the workers.
    func stop() {
        stopping.store(true, ordering: .relaxed)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        for handle in handles { pthread_join(handle, nil) }
    }

    deinit {
        pthread_cond_destroy(wake)
        pthread_mutex_destroy(mutex)
        wake.deallocate()
        mutex.deallocate()
    }
}

/// What a new worker thread is started with.
private final class WorkerStart {
    let pool: WorkerPool, index: Int
    init(pool: WorkerPool, index: Int) {
        self.pool = pool
        self.index = index
    }
}
