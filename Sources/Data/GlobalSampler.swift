import Engine

/// Which samples each rank takes at each training step.
///
/// The order of an epoch is drawn from (seed, epoch) alone, so a position in the stream is just (epoch, step):
/// a resumed run, or a run on another number of ranks, sees the same samples in the same global batches. Every
/// global batch is cut into equal contiguous slices, one per rank. The last partial global batch of an epoch is
/// dropped, so every rank takes the same number of steps (a rank with one step more would wait forever in the
/// gradient allreduce) and no sample is seen twice in an epoch.
///
/// To keep reads sequential on files that do not fit in memory, the shuffle is two-level: the file's chunks are
/// permuted, then the samples within each window of `windowChunks` consecutive chunks of that permutation. A
/// window that spans the whole file is a uniform permutation.
public struct GlobalSampler: Sendable, Equatable {
    /// The number of samples in the dataset.
    public let count: Int
    /// The number of samples in one optimizer step, over all ranks.
    public let globalBatch: Int
    /// The run's seed.
    public let seed: UInt64
    /// Whether epochs are shuffled (otherwise file order).
    public let shuffle: Bool
    /// The number of samples per stored chunk.
    public let chunkRows: Int
    /// The number of chunks shuffled together.
    public let windowChunks: Int

    public init(count: Int, globalBatch: Int, seed: UInt64, shuffle: Bool = true, chunkRows: Int = 1,
                windowChunks: Int = .max) {
        precondition(count > 0 && globalBatch > 0 && chunkRows > 0 && windowChunks > 0,
                     "GlobalSampler: count \(count), global batch \(globalBatch), chunk \(chunkRows), window \(windowChunks)")
        self.count = count
        self.globalBatch = globalBatch
        self.seed = seed
        self.shuffle = shuffle
        self.chunkRows = chunkRows
        self.windowChunks = windowChunks
    }

    /// The number of optimizer steps in one epoch: ceil would leave a partial batch, so floor.
    public var stepsPerEpoch: Int { count / globalBatch }

    /// Every sample index of the dataset in the order epoch `epoch` visits them.
    public func order(epoch: Int) -> [Int] {
        guard shuffle else { return Array(0..<count) }
        let philox = Philox(seed: seed)
        // Streams: chunk order at (epoch, 0), the samples of window w at (epoch, w + 1).
        let epochStream = UInt64(epoch) << 32
        let chunkCount = (count + chunkRows - 1) / chunkRows
        var chunks = Array(0..<chunkCount)
        GlobalSampler.shuffle(&chunks, philox: philox, stream: epochStream)
        var order: [Int] = []
        order.reserveCapacity(count)
        for (window, start) in stride(from: 0, to: chunkCount, by: windowChunks).enumerated() {
            var samples: [Int] = []
            for chunk in chunks[start..<min(start + windowChunks, chunkCount)] {
                samples.append(contentsOf: (chunk * chunkRows)..<min((chunk + 1) * chunkRows, count))
            }
            GlobalSampler.shuffle(&samples, philox: philox, stream: epochStream | UInt64(window + 1))
            order.append(contentsOf: samples)
        }
        return order
    }

    /// The global indices of rank `rank`'s share of step `step` of an epoch whose `order` is given.
    public func indices(in order: [Int], step: Int, rank: Int, worldSize: Int) -> [Int] {
        precondition(globalBatch % worldSize == 0, "GlobalSampler: global batch \(globalBatch) not divisible by \(worldSize) ranks")
        precondition(step >= 0 && step < stepsPerEpoch, "GlobalSampler: step \(step) outside 0..<\(stepsPerEpoch)")
        let local = globalBatch / worldSize
        let start = step * globalBatch + rank * local
        return Array(order[start..<(start + local)])
    }

    /// Fisher-Yates with 64-bit draws keyed by position, so the permutation is a pure function of its stream.
    static func shuffle(_ values: inout [Int], philox: Philox, stream: UInt64) {
        guard values.count > 1 else { return }
        for i in stride(from: values.count - 1, to: 0, by: -1) {
            values.swapAt(i, philox.integer(below: i + 1, stream: stream, index: UInt64(i)))
        }
    }
}
