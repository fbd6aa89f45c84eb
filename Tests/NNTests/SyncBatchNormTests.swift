import Comm
import Engine
import Foundation
import NN
import Testing

/// Synchronised batch norm on 1, 2, 3 and 4 ranks that are threads of this process (`ThreadCommunicator`),
/// against one rank on the global batch: logits (forward), every summed parameter gradient (backward, through
/// both batch norms' input gradients) and the running statistics agree to float rounding. The gradients travel
/// in small buckets, so batch norm's collectives during backward queue up behind buckets in flight.
@Suite struct SyncBatchNormTests {
    static let globalBatch = 8, inputShape = [3, 6, 6]

    /// conv - bn + relu - conv - bn - global pool - dense.
    static func graph() -> Graph {
        let graph = Graph()
        var x = graph.add("conv1", Conv2D(3, 4, kernel: 3, padding: 1), graph.input)
        x = graph.add("bn1", BatchNorm(4, relu: true), x)
        x = graph.add("conv2", Conv2D(4, 5, kernel: 3, padding: 1, bias: false), x)
        x = graph.add("bn2", BatchNorm(5), x)
        x = graph.add("gap", GlobalAvgPool2D(), x)
        graph.add("fc", Dense(5, 3), x)
        return graph
    }

    /// One training step of a fresh model on `rows` of the global batch: its logits, gradients and buffers.
    struct StepResult: Sendable {
        var logits: [Float], gradients: [Float], buffers: [Float]
    }

    static func step(rows: Range<Int>, synchronizer: ((UnsafeMutableBufferPointer<Float>, [Int]) -> any GradientReducer)?) throws -> StepResult {
        let model = try Model(graph: graph(), inputShape: inputShape, seed: 5)
        let input = Tensor(zeros: [rows.count] + inputShape)
        let all = LayerGradientTests.input([globalBatch] + inputShape, seed: 9)
        let sample = inputShape.reduce(1, *)
        input.pointer.update(from: all.pointer + rows.lowerBound * sample, count: rows.count * sample)
        let labels = rows.map { $0 % 3 }
        let reducer = synchronizer?(model.gradients.buffer, model.parameterSegments.map(\.offset))
        if let reducer { model.synchronizeBatchNorm(with: ReducerSum(reducer)) }
        let context = ForwardContext(mode: .training, seed: 1, epoch: 0, sampleIndices: Array(rows))
        model.zeroGradients()
        let logits = model.forward(input, context: context)
        let gradient = Tensor(zeros: logits.shape)
        _ = SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels, normalizer: globalBatch, gradient: gradient)
        model.backward(gradient) { reducer?.gradientsReady(from: $0) }
        _ = reducer?.finish()
        return StepResult(logits: Array(logits.buffer), gradients: Array(model.gradients.buffer), buffers: Array(model.buffers.buffer))
    }

    /// Splits the global batch into `shares` consecutive slices.
    static func slices(_ shares: [Int]) -> [Range<Int>] {
        var start = 0
        return shares.map { share in
            defer { start += share }
            return start..<(start + share)
        }
    }

    static func worstRelativeDifference(_ a: [Float], _ b: [Float]) -> Double {
        let scale = Double(a.map(abs).max() ?? 1)
        return zip(a, b).map { Double(abs($0 - $1)) }.max().map { $0 / max(scale, 1e-30) } ?? 0
    }

    /// Even shards on 1, 2 and 4 ranks, and uneven ones (3 + 3 + 2) on 3: the statistics are count-weighted.
    @Test(arguments: [[8], [4, 4], [2, 2, 2, 2], [3, 3, 2]])
    func ranksAgreeWithOneRankOnTheGlobalBatch(shares: [Int]) throws {
        let reference = try Self.step(rows: 0..<Self.globalBatch, synchronizer: nil)
        let ranks = shares.count
        let results = ThreadCommunicator.run(size: ranks) { communicator in
            try! Self.step(rows: Self.slices(shares)[communicator.rank]) { gradients, starts in
                let plan = BucketPlan(count: gradients.count, segmentStarts: starts, bucketBytes: 64, firstBucketBytes: 64)
                return BucketedReducer(communicator: communicator, gradients: gradients, plan: plan)
            }
        }
        let logits = results.flatMap(\.logits)
        let forward = Self.worstRelativeDifference(reference.logits, logits)
        print("sync batch norm on \(shares) vs one rank: logits maxdiff \(forward) relative")
        #expect(forward < 1e-5, "logits differ by \(forward) relative")
        for (rank, result) in results.enumerated() {
            let backward = Self.worstRelativeDifference(reference.gradients, result.gradients)
            let buffers = Self.worstRelativeDifference(reference.buffers, result.buffers)
            print("  rank \(rank): gradients maxdiff \(backward), running statistics maxdiff \(buffers) relative")
            #expect(backward < 1e-5, "rank \(rank): gradients differ by \(backward) relative")
            #expect(buffers < 1e-5, "rank \(rank): running statistics differ by \(buffers) relative")
        }
    }

    /// Without synchronisation two ranks' statistics are their own slices': the check above would see it.
    @Test func unsynchronisedRanksDiffer() throws {
        let reference = try Self.step(rows: 0..<Self.globalBatch, synchronizer: nil)
        let halves = try Self.slices([4, 4]).map { try Self.step(rows: $0, synchronizer: nil) }
        #expect(Self.worstRelativeDifference(reference.logits, halves.flatMap(\.logits)) > 1e-3)
    }
}

/// Batch norm's sums through a gradient reducer, in order with its buckets.
final class ReducerSum: CrossRankSum {
    let reducer: any GradientReducer
    init(_ reducer: any GradientReducer) { self.reducer = reducer }
    func sumOverRanks(_ values: UnsafeMutableBufferPointer<Double>) { reducer.sumInOrder(values) }
}
