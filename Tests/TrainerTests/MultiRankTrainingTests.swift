import Data
import Foundation
import HDF5
import MPITestSupport
import Testing
import Trainer

/// `dtrain` itself under mpirun: global-batch semantics across world sizes, and bad input ending every rank.
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
            var worst = (difference: 0.0, name: "")
            for (name, values) in reference {
                let other = try #require(parameters[ranks]?[name])
                let scale = Double(values.map(abs).max() ?? 1)
                let difference = zip(values, other).map { Double(abs($0 - $1)) }.max() ?? 0
                if difference / scale > worst.difference { worst = (difference / scale, name) }
            }
            print("\(ranks) ranks vs 1 rank after 50 steps: worst relative parameter difference \(worst.difference) (\(worst.name))")
            #expect(worst.difference < 1e-4, "\(ranks) ranks: \(worst.name) differs by \(worst.difference) relative")
            // Accuracy counts the same 250 samples once each; tiny float differences must not change a prediction.
            let top1 = { (record: String?) in record?.split(separator: ",").first { $0.contains("top1") } }
            #expect(top1(evaluations[ranks]) == top1(evaluations[1]), "\(evaluations[ranks] ?? "none") vs \(evaluations[1] ?? "none")")
            #expect(evaluations[ranks]?.contains("\"samples\": 250") == true)
        }
    }

    /// A mistake in the input: what to write, and a fragment the one error line must contain.
    struct BadInput: Sendable, CustomTestStringConvertible {
        let name: String
        let fragment: String
        let make: @Sendable (TrainerRunSupport, _ train: String, _ validation: String) throws -> [String]
        var testDescription: String { name }
    }

    static let badInputs: [BadInput] = [
        BadInput(name: "missing config file", fragment: "cannot read config") { scratch, _, _ in [scratch.path("absent.toml")] },
        BadInput(name: "malformed TOML", fragment: "line 2") { scratch, _, _ in
            [try scratch.config("bad.toml", "[run]\nseed = = 3\n")]
        },
        BadInput(name: "unknown key", fragment: "did you mean optimizer.momentum") { scratch, train, validation in
            [try scratch.config("c.toml", scratch.lenetConfig(train: train, validation: validation, out: scratch.path("o"))
                .replacingOccurrences(of: "lr = 0.02", with: "lr = 0.02\nmomentun = 0.9"))]
        },
        BadInput(name: "wrong type", fragment: "optimizer.lr") { scratch, train, validation in
            [try scratch.config("c.toml", scratch.lenetConfig(train: train, validation: validation, out: scratch.path("o"))),
             "--set", "optimizer.lr=\"fast\""]
        },
        BadInput(name: "missing dataset file", fragment: "absent.h5") { scratch, _, validation in
            [try scratch.config("c.toml", scratch.lenetConfig(train: scratch.path("absent.h5"), validation: validation,
                                                                out: scratch.path("o")))]
        },
        BadInput(name: "dataset of the wrong type", fragment: "expected uint8") { scratch, _, validation in
            let file = try BadDatasets.floatImages(scratch.path("float.h5"))
            return [try scratch.config("c.toml", scratch.lenetConfig(train: file, validation: validation, out: scratch.path("o")))]
        },
        BadInput(name: "label out of range", fragment: "is outside 0..<10") { scratch, _, validation in
            let file = try BadDatasets.labelOutOfRange(scratch.path("labels.h5"))
            return [try scratch.config("c.toml", scratch.lenetConfig(train: file, validation: validation, out: scratch.path("o")))]
        },
        BadInput(name: "global batch not divisible", fragment: "not divisible by the 2 ranks") { scratch, train, validation in
            [try scratch.config("c.toml", scratch.lenetConfig(train: train, validation: validation, globalBatch: 15,
                                                                out: scratch.path("o")))]
        },
        BadInput(name: "more ranks than samples", fragment: "fewer than data.global_batch") { scratch, _, validation in
            let tiny = try scratch.synthetic("tiny.h5", count: 1, seed: 4)
            return [try scratch.config("c.toml", scratch.lenetConfig(train: tiny, validation: validation, globalBatch: 2,
                                                                       out: scratch.path("o")))]
        },
    ]

    /// Ranks started with different configs (mpirun's `A : B` form) stop with one message instead of pairing up
    /// unrelated gradient buffers or hanging.
    @Test func ranksWithDifferentConfigsStopTogether() throws {
        let scratch = try TrainerRunSupport("mismatch")
        defer { scratch.remove() }
        let train = try scratch.synthetic("train.h5", count: 64, seed: 1)
        let validation = try scratch.synthetic("val.h5", count: 16, seed: 2)
        let text = scratch.lenetConfig(train: train, validation: validation, out: scratch.path("o"))
        let first = try scratch.config("a.toml", text)
        let second = try scratch.config("b.toml", text.replacingOccurrences(of: "lr = 0.02", with: "lr = 0.03"))
        let dtrain = try MPIRun.product(named: "dtrain")
        let result = try scratch.dtrain([first, ":", "-n", "1", dtrain, second], ranks: 1, timeout: .seconds(60))
        let lines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("dtrain:") }
        print("different configs: status \(result.status) after \(String(format: "%.1f", result.seconds)) s: \(lines.first ?? "")")
        #expect(result.status != 0)
        #expect(lines.count == 1 && lines.first?.contains("different configs") == true, "\(result.stderr)")
    }

    /// Every mistake ends both ranks within seconds, with a non-zero status and one line that names it.
    @Test(arguments: badInputs)
    func badInputEndsEveryRankWithOneClearLine(_ input: BadInput) throws {
        let scratch = try TrainerRunSupport("bad")
        defer { scratch.remove() }
        let train = try scratch.synthetic("train.h5", count: 64, seed: 1)
        let validation = try scratch.synthetic("val.h5", count: 16, seed: 2)
        let result = try scratch.dtrain(try input.make(scratch, train, validation), ranks: 2, timeout: .seconds(60))
        let lines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("dtrain:") }
        print("\(input.name): status \(result.status) after \(String(format: "%.1f", result.seconds)) s: \(lines.first ?? "")")
        #expect(result.status != 0)
        #expect(result.seconds < 30)
        #expect(lines.count == 1, "expected one error line, got:\n\(result.stderr)")
        #expect(lines.first?.contains(input.fragment) == true, "\(lines.first.map(String.init) ?? result.stderr) lacks \"\(input.fragment)\"")
    }
}
