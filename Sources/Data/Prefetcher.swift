import Foundation

/// Prepares the batches of a fixed sequence of steps on a background thread, `depth` steps ahead of the consumer,
/// so that reading and normalising overlap with the forward and backward passes.
public final class Prefetcher: @unchecked Sendable {
    private let condition = NSCondition()
    private var ready: [Int: Result<Batch, DataError>] = [:]
    private var consumed: Int
    private var stopped = false
    private let end: Int
    private let depth: Int

    /// Starts loading steps `steps` in order with `load`, keeping at most `depth` ready batches.
    public init(steps: Range<Int>, depth: Int = 2, load: @escaping @Sendable (Int) throws(DataError) -> Batch) {
        consumed = steps.lowerBound
        end = steps.upperBound
        self.depth = depth
        let thread = Thread { [self] in produce(steps: steps, load: load) }
        thread.name = "dtrain-prefetch"
        thread.start()
    }

    deinit {
        stop()
    }

    /// The batch of the next step, waiting for it if it is not ready yet; rethrows the error its loading hit.
    public func next() throws(DataError) -> Batch {
        condition.lock()
        defer { condition.unlock() }
        precondition(consumed < end, "Prefetcher: no step after \(end - 1)")
        while ready[consumed] == nil { condition.wait() }
        let result = ready.removeValue(forKey: consumed)!
        consumed += 1
        condition.broadcast()
        return try result.get()
    }

    /// Ends the background thread after its current load.
    public func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func produce(steps: Range<Int>, load: (Int) throws(DataError) -> Batch) {
        for step in steps {
            condition.lock()
            while !stopped && step >= consumed + depth { condition.wait() }
            let stop = stopped
            condition.unlock()
            if stop { return }
            let result: Result<Batch, DataError>
            do { result = .success(try load(step)) } catch { result = .failure(error) }
            condition.lock()
            ready[step] = result
            condition.broadcast()
            condition.unlock()
            if case .failure = result { return }
        }
    }
}
