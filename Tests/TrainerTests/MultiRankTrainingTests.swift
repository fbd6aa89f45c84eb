import Data
import Foundation
import HDF5
import MPITestSupport
import Testing
import Trainer

/// `dtrain` itself under mpirun: global-batch semantics across world sizes (bad input: `BadInputTableTests`).
///
/// Serialized: the machine has two cores and the 4-rank runs already oversubscribe them.
@Suite(.serialized) struct MultiRankTrainingTests {
    /// The same global batch on 1, 2 and 4 ranks gives the same parameters after 50 steps (up to the rounding of
    /// summing gradients in another order), and the same validation accuracy.
    @Test func sameGlobalBatchGivesSameParametersOnOneTwoAndFourRanks() throws {
        let scratch = try TrainerRunSupport("invariance")
        defer { scratch.remove() }
        let train = try scratch.synthetic("train.h5", count: 1024, seed: 1)
        let validation = try scratch.synthetic("val.h5", count: 250, seed: 2)
        var parameters: [Int: [String: [Float]]] = [:]
        var evaluations: [Int: String] = [:]
        for ranks in [1, 2, 4] {
            let out = scratch.path("run\(ranks)")
            let config = try scratch.config("lenet\(ranks).toml", scratch.lenetConfig(train: train, validation: validation, out: out))
            let result = try scratch.dtrain([config], ranks: ranks)
            #expect(result.status == 0, "dtrain on \(ranks) ranks failed:\n\(result.stderr)")
            parameters[ranks] = try ModelFile.readParameters(from: out + "/model.h5")
            let metrics = try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8)
            evaluations[ranks] = metrics.split(separator: "\n").last { $0.contains("\"eval\"") }.map(String.init)
        }
        let reference = try #require(parameters[1])
        #expect(reference.count == 10)
        for ranks in [2, 4] {
            let worst = try Self.worstRelativeDifference(reference, try #require(parameters[ranks]))
            print("\(ranks) ranks vs 1 rank after 50 steps: worst relative parameter difference \(worst.difference) (\(worst.name))")
            #expect(worst.difference < 1e-4, "\(ranks) ranks: \(worst.name) differs by \(worst.difference) relative")
            // Accuracy counts the same 250 samples once each; tiny float differences must not change a prediction.
            let top1 = { (record: String?) in record?.split(separator: ",").first { $0.contains("top1") } }
            #expect(top1(evaluations[ranks]) == top1(evaluations[1]), "\(evaluations[ranks] ?? "none") vs \(evaluations[1] ?? "none")")
            #expect(evaluations[ranks]?.contains("\"samples\": 250") == true)
        }
    }

    /// Small buckets (10 KB: LeNet-5's gradients travel in 3 allreduces while backward runs) give the same bits
    /// as one flat allreduce on 2 ranks, where every element is one sum of two addends either way, and as the
    /// default on 4 ranks up to rounding.
    @Test func bucketedReductionMatchesTheFlatOne() throws {
        let scratch = try TrainerRunSupport("buckets")
        defer { scratch.remove() }
        let train = try scratch.synthetic("train.h5", count: 512, seed: 1)
        let validation = try scratch.synthetic("val.h5", count: 64, seed: 2)
        var parameters: [String: [String: [Float]]] = [:]
        for (ranks, bucketMB) in [(2, "0"), (2, "0.01"), (4, "0"), (4, "0.01")] {
            let run = "\(ranks)-\(bucketMB)", out = scratch.path("run" + run)
            let config = try scratch.config("lenet\(run).toml", scratch.lenetConfig(train: train, validation: validation, steps: 20, out: out))
            let result = try scratch.dtrain([config, "--set", "comm.bucket_mb=\(bucketMB)"], ranks: ranks)
            #expect(result.status == 0, "dtrain on \(ranks) ranks with comm.bucket_mb = \(bucketMB) failed:\n\(result.stderr)")
            parameters[run] = try ModelFile.readParameters(from: out + "/model.h5")
        }
        let flat = try #require(parameters["2-0"]), bucketed = try #require(parameters["2-0.01"])
        #expect(flat.count == 10)
        for (name, values) in flat {
            #expect(bucketed[name] == values, "2 ranks: \(name) differs between flat and bucketed reduction")
        }
        let worst = try Self.worstRelativeDifference(try #require(parameters["4-0"]), try #require(parameters["4-0.01"]))
        #expect(worst.difference < 1e-5, "4 ranks: \(worst.name) differs by \(worst.difference) relative")
    }

    /// With `model.sync_bn`, a network of two conv - batch norm - tanh blocks trained for 20 steps on 2 and 4
    /// ranks ends with the parameters of one rank on the same global batch, up to rounding: every batch norm
    /// normalises with the global batch's statistics in forward and sums its mean gradients over the ranks in
    /// backward. (Smooth activations: in a ReLU network such as ResNet-20 a rounding difference that moves one
    /// activation across the kink changes a gradient by a finite amount; there 1 and 2 ranks agree to 1e-6 after 3
    /// steps and drift apart from step 4 on.)
    @Test func syncBatchNormMatchesOneRankOnTheGlobalBatch() throws {
        let scratch = try TrainerRunSupport("syncbn")
        defer { scratch.remove() }
        let train = scratch.path("train.h5"), validation = scratch.path("val.h5")
        try Packer.packSynthetic(output: train, count: 128, shape: [3, 16, 16], classes: 10, seed: 1)
        try Packer.packSynthetic(output: validation, count: 32, shape: [3, 16, 16], classes: 10, seed: 2)
        let block = """
            [[model.layers]]
            type = "conv2d"
            out = 16
            kernel = 3
            padding = 1
            [[model.layers]]
            type = "batchnorm"
            [[model.layers]]
            type = "tanh"

            """
        var parameters: [Int: [String: [Float]]] = [:]
        for ranks in [1, 2, 4] {
            let out = scratch.path("run\(ranks)")
            let config = try scratch.config("bn\(ranks).toml", """
                [run]
                seed = 3
                max_steps = 20
                out_dir = "\(out)"
                [data]
                train = "\(train)"
                val = "\(validation)"
                global_batch = 16
                [optimizer]
                name = "momentum"
                lr = 0.05
                [model]
                name = "layers"
                sync_bn = true

                """ + block + block + """
                [[model.layers]]
                type = "global_avgpool"
                [[model.layers]]
                type = "dense"
                out = 10
                """)
            let result = try scratch.dtrain([config, "--set", "comm.bucket_mb=0.05"], ranks: ranks)
            #expect(result.status == 0, "dtrain on \(ranks) ranks failed:\n\(result.stderr)")
            parameters[ranks] = try ModelFile.readParameters(from: out + "/model.h5")
        }
        let reference = try #require(parameters[1])
        for ranks in [2, 4] {
            let worst = try Self.worstRelativeDifference(reference, try #require(parameters[ranks]))
            print("sync_bn: \(ranks) ranks vs 1 rank after 20 steps: worst relative parameter difference \(worst.difference) (\(worst.name))")
            #expect(worst.difference < 1e-4, "\(ranks) ranks: \(worst.name) differs by \(worst.difference) relative")
        }
    }

    /// The parameter whose values differ most between `reference` and `other`, relative to its largest magnitude.
    static func worstRelativeDifference(_ reference: [String: [Float]], _ other: [String: [Float]]) throws
        -> (difference: Double, name: String) {
        var worst = (difference: 0.0, name: "")
        for (name, values) in reference {
            let others = try #require(other[name], "\(name) is missing")
            let scale = Double(values.map(abs).max() ?? 1)
            let difference = zip(values, others).map { Double(abs($0 - $1)) }.max() ?? 0
            if difference / scale > worst.difference { worst = (difference / scale, name) }
        }
        return worst
    }
}
