import Comm
import Foundation
import Synchronization

/// What one run of dtrain-comm-check exercises.
///
/// Each rank checks whole buffers itself and prints a summary whose values depend only on rank and size, so the
/// tests can state the expected line without knowing the buffers.
enum Scenario: String, CaseIterable {
    case allreduce, inPlace = "in-place", split, broadcast, barrier, agree, info, finish
    /// Sixteen threads call `start()` at once, eight threads run collectives at once, and empty buffers pass.
    case threads
    /// One rank aborts with a message while the others wait in a barrier.
    case abort
    /// One rank makes an MPI call fail (an invalid broadcast root) while the others wait in a barrier.
    case mpiError = "mpi-error"
    /// One rank calls exit with a non-zero status while the others wait in an allreduce.
    case exit
    /// One rank traps (fatalError) while the others wait in an allreduce.
    case trap
    /// One rank never joins the others' allreduce: the job hangs until something kills it.
    case hang
    /// One rank stops itself (SIGSTOP) while the others wait in an allreduce; with a 1 s stall warning and a 3 s
    /// stall timeout the others name it, then end the job.
    case stall
    /// One rank is stopped (SIGSTOP from a thread of its own) while every rank runs 100 MB allreduces, most likely
    /// inside one; with a 1 s warning and a 3 s timeout the others name it, then end the job.
    case stopInside = "stop-inside"
    /// One rank joins the others' allreduce 2 s late; with a 0.5 s stall warning and no timeout the others name it,
    /// report the end of the stall, and every rank prints the CPU time its wait cost.
    case late
    /// The bucketed reducer over 100,000 floats in segments of 1,000 (buckets of 10,000, the first of 1,000),
    /// written segment by segment from the end as backward does, for 5 steps: every sum exact, as the flat reducer's.
    case bucketed
    /// The last rank stops itself (SIGSTOP) before its backward while the others' communication threads wait in
    /// the first bucket's allreduce; with a 1 s stall warning and a 3 s timeout the others name it, then end the job.
    case bucketedStall = "bucketed-stall"
    /// 100,000 gradients with fractional values summed as bfloat16 by the bucketed reducer: every element within
    /// n 2^-8 of the sum of its magnitudes from the exact sum, and the same bits on every rank.
    case bfloat16
    /// Times allreduce of 4 MB and 100 MB Float buffers, of one float, and back-to-back allreduces of LeNet-5's
    /// gradient (61,706 floats) and of a step's statistics (5 doubles); rank 0 prints the figures.
    case bench

    func run(on communicator: MPICommunicator) {
        switch self {
        case .allreduce: report(allreduce(communicator), communicator)
        case .inPlace: report(inPlace(communicator), communicator)
        case .split: report(split(communicator), communicator)
        case .broadcast: report(broadcast(communicator), communicator)
        case .barrier: report(barrier(communicator), communicator)
        case .agree: report(agree(communicator), communicator)
        case .info: report(info(communicator), communicator)
        case .finish: finish(communicator)
        case .threads: report(threads(communicator), communicator)
        case .abort: fail(communicator) { communicator.abort("configuration differs from rank 0's", code: 2) }
        case .mpiError: fail(communicator) { _ = communicator.broadcast(Int64(1), root: communicator.size + 5) }
        case .exit: fail(communicator) { Foundation.exit(4) }
        case .trap: fail(communicator) { fatalError("rank \(communicator.rank): deliberate trap") }
        case .hang: fail(communicator) { while true { Thread.sleep(forTimeInterval: 1) } }
        case .stall:
            communicator.stallPolicy = StallPolicy(warningSeconds: 1, timeoutSeconds: 3)
            communicator.activity = "the stall scenario"
            // Open MPI continues a stopped rank before it kills it; it must not go on into the collective then.
            fail(communicator) {
                kill(getpid(), SIGSTOP)
                while true { pause() }
            }
        case .late: late(communicator)
        case .stopInside: stopInside(communicator)
        case .bench: bench(communicator)
        case .bucketed: report(bucketed(communicator), communicator)
        case .bucketedStall: bucketedStall(communicator)
        case .bfloat16: report(bfloat16(communicator), communicator)
        }
    }

    private func report(_ result: String, _ communicator: Communicator) {
        // Unbuffered, so that the line is out before a failing scenario ends the job.
        let line = "\(rawValue) rank \(communicator.rank) of \(communicator.size): \(result)\n"
        FileHandle.standardOutput.write(Data(line.utf8))
    }

    // MARK: Collectives

    /// Element i of rank r holds (r + 1) * w(i) with weights w of both signs, so sum, max and min of every element
    /// are known in closed form; element 0 has weight 1, and its results are what the line shows.
    private func allreduce(_ communicator: Communicator) -> String {
        let parts = [
            reduceAll(Float.self, "float", communicator),
            reduceAll(Double.self, "double", communicator),
            reduceAll(Int64.self, "int64", communicator),
        ]
        return parts.joined(separator: ", ")
    }

    private func reduceAll<Element: ReducibleElement>(
        _: Element.Type, _ name: String, _ communicator: Communicator, count: Int = 1000
    ) -> String {
        let n = communicator.size, r = communicator.rank
        func weight(_ i: Int) -> Int { (i % 7 + 1) * (i % 2 == 0 ? 1 : -1) }
        var summary: [String] = []
        for operation in [ReduceOperation.sum, .max, .min] {
            var values = (0..<count).map { Element.make((r + 1) * weight($0)) }
            values.withUnsafeMutableBufferPointer { Element.allreduce($0, operation, communicator) }
            let expected: (Int) -> Element = { i in
                let w = weight(i)
                switch operation {
                case .sum: return Element.make(n * (n + 1) / 2 * w)
                case .max: return Element.make(w > 0 ? n * w : w)
                case .min: return Element.make(w > 0 ? w : n * w)
                }
            }
            if let bad = (0..<count).first(where: { values[$0] != expected($0) }) {
                return "\(name) \(operation) element \(bad) is \(values[bad]), expected \(expected(bad))"
            }
            summary.append("\(operation) \(values[0])")
        }
        return "\(name) " + summary.joined(separator: " ")
    }

    /// The reduction writes into the caller's memory and nowhere else: a slice in the middle of an array is reduced
    /// while the elements on either side keep their sentinels; the scalar conveniences round-trip.
    private func inPlace(_ communicator: Communicator) -> String {
        let n = communicator.size, r = communicator.rank
        var values = [Float](repeating: -7, count: 102)
        for i in 1...100 { values[i] = Float(r + 1) }
        values.withUnsafeMutableBufferPointer { whole in
            communicator.allreduce(UnsafeMutableBufferPointer(rebasing: whole[1...100]), .sum)
        }
        let expected = Float(n * (n + 1) / 2)
        guard values[0] == -7, values[101] == -7 else { return "sentinels overwritten: \(values[0]) \(values[101])" }
        guard values[1...100].allSatisfy({ $0 == expected }) else { return "slice not reduced: \(values[1...100])" }
        let double = communicator.allreduce(Double(r) + 0.5, .sum)
        let integer = communicator.allreduce(r * 1_000_000_000_000, .max)
        return "slice sum \(values[1]), sentinels intact, double sum \(double), int max \(integer)"
    }

    /// With a limit of 3 elements per MPI call, 1001-element buffers (not a multiple of 3) go in 334 pieces.
    private func split(_ communicator: MPICommunicator) -> String {
        communicator.maximumCountPerCall = 3
        let n = communicator.size, r = communicator.rank, count = 1001
        var floats = (0..<count).map { Float($0 * (r + 1)) }
        var doubles = (0..<count).map { Double($0 * (r + 1)) }
        var integers = (0..<count).map { Int64($0 * (r + 1)) }
        floats.withUnsafeMutableBufferPointer { communicator.allreduce($0, .sum) }
        doubles.withUnsafeMutableBufferPointer { communicator.allreduce($0, .sum) }
        integers.withUnsafeMutableBufferPointer { communicator.allreduce($0, .max) }
        let factor = n * (n + 1) / 2
        for i in 0..<count {
            guard floats[i] == Float(i * factor), doubles[i] == Double(i * factor), integers[i] == Int64(i * n) else {
                return "element \(i): \(floats[i]) \(doubles[i]) \(integers[i])"
            }
        }
        var bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 * 7 + r) }
        bytes.withUnsafeMutableBytes { communicator.broadcast($0, root: n - 1) }
        guard bytes == (0..<count).map({ UInt8(truncatingIfNeeded: $0 * 7 + n - 1) }) else {
            return "broadcast bytes differ from root \(n - 1)'s"
        }
        let text = communicator.broadcast(r == 0 ? "pieces of three bytes" : "", root: 0)
        return "\(count) elements reduced and broadcast in pieces of \(communicator.maximumCountPerCall), \(text)"
    }

    /// From root 0 and root size-1: raw bytes, a string (UTF-8, longer and shorter than the receivers'), an array
    /// whose length differs between ranks, and a scalar.
    private func broadcast(_ communicator: Communicator) -> String {
        let n = communicator.size, r = communicator.rank
        var parts: [String] = []
        for root in [0, n - 1] {
            var bytes = (0..<257).map { UInt8(truncatingIfNeeded: $0 + 31 * r) }
            bytes.withUnsafeMutableBytes { communicator.broadcast($0, root: root) }
            let bytesMatch = bytes == (0..<257).map { UInt8(truncatingIfNeeded: $0 + 31 * root) }
            let text = communicator.broadcast(String(repeating: "é", count: r) + "from rank \(r) ✓", root: root)
            var floats = (0...r).map { Float($0) + Float(r) / 10 }
            communicator.broadcast(&floats, root: root)
            let scalar = communicator.broadcast(Int64(r) * -3, root: root)
            parts.append("root \(root) bytes \(bytesMatch ? "match" : "differ") \"\(text)\" \(floats) \(scalar)")
        }
        return parts.joined(separator: "; ")
    }

    /// Ranks enter the barrier at staggered times; each must leave after the last one entered (one clock per node).
    private func barrier(_ communicator: Communicator) -> String {
        let r = communicator.rank
        Thread.sleep(forTimeInterval: 0.05 * Double(r))
        let entered = Date().timeIntervalSince1970
        communicator.barrier()
        let left = Date().timeIntervalSince1970
        let lastEntered = communicator.allreduce(entered, .max)
        return left >= lastEntered ? "left after the last rank entered" : "left \(lastEntered - left) s too early"
    }

    /// Equal fingerprints agree; rank-dependent ones disagree on every rank, including values at the ends of the range.
    private func agree(_ communicator: Communicator) -> String {
        let r = communicator.rank
        let cases: [UInt64] = [
            0x5eed_f00d,
            UInt64(r),
            UInt64.max,
            r == 0 ? 0 : UInt64.max,
            r == 0 ? 1 << 63 : (1 << 63) - 1,
        ]
        return cases.map { String(communicator.agree($0)) }.joined(separator: " ")
    }

    private func info(_ communicator: MPICommunicator) -> String {
        let named = communicator.processorName.isEmpty ? "no processor name" : "named"
        return "local \(communicator.localRank) of \(communicator.localSize), \(named), \(communicator.threadSupport)"
    }

    /// Concurrent callers get one instance, and concurrent collectives are serialised: each thread's buffer holds
    /// the same values on every rank and comes back multiplied by the number of ranks, whatever the interleaving
    /// within a rank (with one rank; with several, the threads' collectives may pair up across ranks in any order).
    private func threads(_ communicator: MPICommunicator) -> String {
        let starts = Mutex(Set<ObjectIdentifier>())
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            let started = ObjectIdentifier(MPICommunicator.start())
            starts.withLock { _ = $0.insert(started) }
        }
        let intact = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { task in
            var values = [Double](repeating: Double(task), count: 1000)
            for _ in 0..<100 { values.withUnsafeMutableBufferPointer { communicator.allreduce($0, .sum) } }
            if values.allSatisfy({ $0 == Double(task) }) { intact.withLock { $0 += 1 } }
        }
        communicator.allreduce(UnsafeMutableBufferPointer<Float>(start: nil, count: 0), .sum)
        communicator.broadcast(UnsafeMutableRawBufferPointer(start: nil, count: 0), root: 0)
        var empty: [Double] = []
        communicator.broadcast(&empty, root: 0)
        let emptyText = communicator.broadcast("", root: 0)
        let one = starts.withLock { $0 == [ObjectIdentifier(communicator)] }
        return "\(one ? "one instance" : "several instances"), \(intact.withLock { $0 }) of 8 threads' buffers intact, "
            + "empty buffers \(empty.isEmpty && emptyText.isEmpty ? "unchanged" : "changed")"
    }

    private func finish(_ communicator: MPICommunicator) {
        report("finishing", communicator)
        communicator.finish()
        communicator.finish()
    }

    // MARK: Failures

    /// The last rank runs `failure` while the others block in a collective it never joins.
    private func fail(_ communicator: MPICommunicator, by failure: () -> Void) {
        let n = communicator.size, r = communicator.rank
        guard r == n - 1 else {
            var value: [Float] = [1]
            value.withUnsafeMutableBufferPointer { communicator.allreduce($0, .sum) }
            report("returned from a collective the last rank never joined", communicator)
            return
        }
        // Late enough that the others are already waiting in their collective.
        Thread.sleep(forTimeInterval: 0.2)
        failure()
        report("survived its failure", communicator)
    }

    private func stopInside(_ communicator: MPICommunicator) {
        communicator.stallPolicy = StallPolicy(warningSeconds: 1, timeoutSeconds: 3)
        communicator.activity = "the stop-inside scenario"
        if communicator.rank == communicator.size - 1 {
            Thread.detachNewThread {
                Thread.sleep(forTimeInterval: 0.5)
                kill(getpid(), SIGSTOP)
            }
        }
        var values = [Float](repeating: 1, count: 25_000_000)
        for _ in 0..<1000 { values.withUnsafeMutableBufferPointer { communicator.allreduce($0, .sum) } }
        report("survived the stop", communicator)
    }

    /// The last rank sleeps 2 s before the allreduce; the CPU time of the others' wait is what the line shows.
    private func late(_ communicator: MPICommunicator) {
        communicator.stallPolicy = StallPolicy(warningSeconds: 0.5, timeoutSeconds: 0)
        communicator.activity = "the late scenario"
        communicator.barrier()
        if communicator.rank == communicator.size - 1 { Thread.sleep(forTimeInterval: 2) }
        let (wallStart, cpuStart) = (ContinuousClock.now, Self.cpuSeconds())
        var value: [Float] = [1]
        value.withUnsafeMutableBufferPointer { communicator.allreduce($0, .sum) }
        let wall = (ContinuousClock.now - wallStart) / .seconds(1), cpu = Self.cpuSeconds() - cpuStart
        let share = communicator.rank == communicator.size - 1 ? "" : String(format: ", cpu %.0f%% of the wait", 100 * cpu / wall)
        report("sum \(value[0])\(share)", communicator)
    }

    /// User and system CPU time of this process so far.
    private static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    // MARK: Gradient reducers

    private static let reducerCount = 100_000, segmentLength = 1_000

    private func bucketPlan() -> BucketPlan {
        BucketPlan(count: Self.reducerCount, segmentStarts: Array(stride(from: 0, to: Self.reducerCount, by: Self.segmentLength)),
                   bucketBytes: 40_000, firstBucketBytes: 4_000)
    }

    /// Element i of rank r in step s is (r + 1) * w(i, s) with small integer weights, so every sum is exact.
    private func bucketed(_ communicator: Communicator) -> String {
        let n = communicator.size, r = communicator.rank
        func weight(_ i: Int, _ step: Int) -> Int { (i + step) % 13 - 6 }
        var gradients = [Float](repeating: 0, count: Self.reducerCount)
        return gradients.withUnsafeMutableBufferPointer { buffer in
            let plan = bucketPlan()
            let reducers: [any GradientReducer] = [BucketedReducer(communicator: communicator, gradients: buffer, plan: plan),
                                                   FlatReducer(communicator: communicator, gradients: buffer)]
            for step in 0..<10 {
                let reducer = reducers[step % 2]
                buffer.update(repeating: 0)
                for start in stride(from: Self.reducerCount - Self.segmentLength, through: 0, by: -Self.segmentLength) {
                    for i in start..<(start + Self.segmentLength) { buffer[i] = Float((r + 1) * weight(i, step)) }
                    reducer.gradientsReady(from: start)
                }
                _ = reducer.finish()
                if let bad = (0..<Self.reducerCount).first(where: { buffer[$0] != Float(n * (n + 1) / 2 * weight($0, step)) }) {
                    return "step \(step) (\(reducer)): element \(bad) is \(buffer[bad]), expected \(n * (n + 1) / 2 * weight(bad, step))"
                }
            }
            return "\(plan.buckets.count) buckets, first of \(plan.buckets[0].count), 10 steps alternating with the flat reducer: sums exact"
        }
    }

    private func bfloat16(_ communicator: Communicator) -> String {
        let n = communicator.size, r = communicator.rank
        func value(_ rank: Int, _ i: Int) -> Float { Float((i * 7_919 + rank * 104_729) % 20_011) / 1_000 - 10 }
        var gradients = (0..<Self.reducerCount).map { value(r, $0) }
        gradients.withUnsafeMutableBufferPointer { buffer in
            let reducer = BucketedReducer(communicator: communicator, gradients: buffer, plan: bucketPlan(), compression: .bf16)
            reducer.gradientsReady(from: 0)
            _ = reducer.finish()
        }
        var worst = 0.0
        for i in 0..<Self.reducerCount {
            let values = (0..<n).map { Double(value($0, i)) }
            let bound = Double(n) * 0x1p-8 * values.map(abs).reduce(0, +) * 1.01
            worst = max(worst, abs(Double(gradients[i]) - values.reduce(0, +)) / bound)
        }
        // The same bits everywhere: a checksum of the bit patterns, compared by max and min over the ranks.
        let checksum = gradients.reduce(0) { ($0 &* 31) &+ Int($1.bitPattern) }
        let same = communicator.allreduce(checksum, .max) == communicator.allreduce(checksum, .min)
        return String(format: "error within %@ bound, %@ on every rank", worst <= 1 ? "the" : "NOT the",
                      same ? "the same bits" : "DIFFERENT bits") + (r == 0 ? String(format: " (worst %.3f of the bound)", worst) : "")
    }

    private func bucketedStall(_ communicator: MPICommunicator) {
        communicator.stallPolicy = StallPolicy(warningSeconds: 1, timeoutSeconds: 3)
        communicator.activity = "the bucketed stall scenario"
        if communicator.rank == communicator.size - 1 {
            Thread.sleep(forTimeInterval: 0.2)
            kill(getpid(), SIGSTOP)
            while true { pause() }
        }
        var gradients = [Float](repeating: 1, count: Self.reducerCount)
        gradients.withUnsafeMutableBufferPointer { buffer in
            let plan = bucketPlan()
            let reducer = BucketedReducer(communicator: communicator, gradients: buffer, plan: plan)
            reducer.gradientsReady(from: plan.buckets[0].lowerBound)
            _ = reducer.finish()
        }
        report("returned from a collective the last rank never joined", communicator)
    }

    // MARK: Measurement

    private func bench(_ communicator: Communicator) {
        for (megabytes, repeats) in [(4, 50), (100, 10)] {
            let count = megabytes * 1_000_000 / MemoryLayout<Float>.size
            var values = [Float](repeating: Float(communicator.rank), count: count)
            var times: [Double] = []
            values.withUnsafeMutableBufferPointer { buffer in
                for iteration in 0..<(repeats + 2) {
                    communicator.barrier()
                    let start = ContinuousClock.now
                    communicator.allreduce(buffer, .sum)
                    let elapsed = ContinuousClock.now - start
                    // The first two rounds warm up the shared-memory segments and page in the buffer.
                    if iteration >= 2 { times.append(elapsed / .milliseconds(1)) }
                }
            }
            // The slowest rank's time is the collective's time.
            let mean = communicator.allreduce(times.reduce(0, +) / Double(times.count), .max)
            let best = communicator.allreduce(times.min() ?? .nan, .max)
            func figures(_ milliseconds: Double) -> String {
                String(format: "%.3f ms (%.2f GB/s)", milliseconds, Double(megabytes) / 1e3 / (milliseconds / 1e3))
            }
            if communicator.rank == 0 {
                report("allreduce \(megabytes) MB Float: mean \(figures(mean)), best \(figures(best))", communicator)
            }
        }
        // The latency of the smallest allreduce: the alpha of an alpha-beta model.
        var one: [Float] = [1]
        communicator.barrier()
        let latencyStart = ContinuousClock.now
        for _ in 0..<2000 { one.withUnsafeMutableBufferPointer { communicator.allreduce($0, .sum) } }
        let latency = communicator.allreduce((ContinuousClock.now - latencyStart) / .microseconds(1) / 2000, .max)
        if communicator.rank == 0 {
            report(String(format: "allreduce of 1 float: %.1f us", latency), communicator)
        }
        // A training step's two collectives, back to back as the ranks issue them: their per-call cost.
        var gradient = [Float](repeating: 1, count: 61_706), statistics = [Double](repeating: 1, count: 5)
        communicator.barrier()
        let start = ContinuousClock.now
        for _ in 0..<2000 {
            gradient.withUnsafeMutableBufferPointer { communicator.allreduce($0, .sum) }
            statistics.withUnsafeMutableBufferPointer { communicator.allreduce($0, .sum) }
        }
        let perPair = communicator.allreduce((ContinuousClock.now - start) / .microseconds(1) / 2000, .max)
        if communicator.rank == 0 {
            report(String(format: "allreduce of 61706 floats then 5 doubles: %.1f us per pair", perPair), communicator)
        }
    }
}
