import Data
import Testing

@Suite struct GlobalSamplerTests {
    /// Every epoch visits a permutation: no sample twice, none missing, a different order each epoch.
    @Test(arguments: [(1000, 1, Int.max), (1000, 64, 3), (1003, 10, 1)])
    func epochOrderIsAPermutation(count: Int, chunkRows: Int, windowChunks: Int) {
        let sampler = GlobalSampler(count: count, globalBatch: 32, seed: 7, chunkRows: chunkRows, windowChunks: windowChunks)
        let first = sampler.order(epoch: 0), second = sampler.order(epoch: 1)
        #expect(first.sorted() == Array(0..<count))
        #expect(second.sorted() == Array(0..<count))
        #expect(first != second)
        #expect(first == sampler.order(epoch: 0))
    }

    /// The ranks' slices of every step partition its global batch, so N ranks see exactly what one rank would.
    @Test(arguments: [1, 2, 4, 8])
    func ranksPartitionEachGlobalBatch(worldSize: Int) {
        let sampler = GlobalSampler(count: 1000, globalBatch: 64, seed: 3)
        let order = sampler.order(epoch: 2)
        #expect(sampler.stepsPerEpoch == 15)
        var seen: [Int] = []
        for step in 0..<sampler.stepsPerEpoch {
            let global = sampler.indices(in: order, step: step, rank: 0, worldSize: 1)
            let pieces = (0..<worldSize).flatMap { sampler.indices(in: order, step: step, rank: $0, worldSize: worldSize) }
            #expect(pieces == global)
            seen += global
        }
        #expect(Set(seen).count == seen.count)
        #expect(seen.count == 15 * 64)
    }

    /// A chunk window keeps consecutive reads inside a few chunks of the file.
    @Test func windowsStayWithinTheirChunks() {
        let sampler = GlobalSampler(count: 1024, globalBatch: 16, seed: 1, chunkRows: 64, windowChunks: 2)
        let order = sampler.order(epoch: 0)
        for window in stride(from: 0, to: 1024, by: 128) {
            #expect(Set(order[window..<(window + 128)].map { $0 / 64 }).count == 2)
        }
    }

    @Test func unshuffledOrderIsFileOrder() {
        #expect(GlobalSampler(count: 10, globalBatch: 2, seed: 1, shuffle: false).order(epoch: 5) == Array(0..<10))
    }
}

@Suite struct EvaluationShardTests {
    /// Every sample is evaluated exactly once whatever the number of ranks, with no padding.
    @Test(arguments: [1, 2, 3, 4, 7, 16])
    func shardsCoverEverySampleOnce(worldSize: Int) {
        let rows = (0..<worldSize).flatMap { rank in
            EvaluationShard(count: 10_003, rank: rank, worldSize: worldSize).batches(of: 64).flatMap { Array($0) }
        }
        #expect(rows == Array(0..<10_003))
    }
}
