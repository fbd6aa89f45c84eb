import Foundation
import MPITestSupport
import Testing

/// A 2-rank run's TensorBoard event files, read back by the `tensorboard` package's own reader (from PyPI, in a
/// virtual environment when python3 lacks it): every metrics.jsonl record is there as scalars at its step, and
/// the resolved config as text.
@Suite struct TensorBoardLogTests {
    static let reader = """
        import json, sys
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        accumulator = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0, "tensors": 0})
        accumulator.Reload()
        tags = accumulator.Tags()
        print(json.dumps({
            "scalars": {tag: [[event.step, event.value] for event in accumulator.Scalars(tag)] for tag in tags["scalars"]},
            "text": {tag: [event.tensor_proto.string_val[0].decode() for event in accumulator.Tensors(tag)] for tag in tags["tensors"]},
        }))
        """

    @Test func twoRankRunReadsBackWithTensorBoardsReader() throws {
        let scratch = try TrainerRunSupport("tensorboard")
        defer { scratch.remove() }
        let train = try scratch.synthetic("train.h5", count: 512, seed: 1)
        let validation = try scratch.synthetic("val.h5", count: 100, seed: 2)
        let out = scratch.path("run")
        let config = try scratch.config("lenet.toml", scratch.lenetConfig(train: train, validation: validation, steps: 60, out: out))
        let result = try scratch.dtrain([config, "--set", "run.epochs=2"], ranks: 2)
        try #require(result.status == 0, "dtrain failed:\n\(result.stderr)")

        let files = try FileManager.default.contentsOfDirectory(atPath: out + "/tensorboard")
        #expect(files.count == 1 && files[0].hasPrefix("events.out.tfevents."), "\(files)")
        let python = try PythonEnvironment.python(named: "tensorboard", importing: ["tensorboard"], packages: ["tensorboard"])
        let read = try ChildProcess(executable: python, arguments: ["-c", Self.reader, out + "/tensorboard"]).wait(timeout: .seconds(120))
        try #require(read.status == 0, "TensorBoard's reader failed: \(read.stderr)")
        let events = try #require(try JSONSerialization.jsonObject(with: Data(read.stdout.utf8)) as? [String: [String: Any]])
        let scalars = try #require(events["scalars"] as? [String: [[Double]]])
        let text = try #require(events["text"] as? [String: [String]])

        // The same records as metrics.jsonl, value for value (TensorBoard stores Float32).
        let records = try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let training = records.filter { $0["type"] as? String == "train" }, evaluations = records.filter { $0["type"] as? String == "eval" }
        // 32 steps per epoch: logged at steps 10, 20, 30, 32 (end of epoch 1), 40, 50 and 60; validated twice.
        #expect(training.count == 7 && evaluations.count == 2, "\(records.count) records")
        print("TensorBoard tags read back: " + scalars.keys.sorted().map { "\($0) (\(scalars[$0]!.count))" }.joined(separator: ", ")
              + "; text: " + text.keys.sorted().map { "\($0) (\(text[$0]!.count))" }.joined(separator: ", "))
        for (prefix, group) in [("train/", training), ("validation/", evaluations)] {
            for field in ["loss", "accuracy", "lr", "images_per_second", "data_ms", "compute_ms", "communication_ms", "top1", "top5"] {
                let expected = group.compactMap { record in (record[field] as? Double).map { [Double(record["global_step"] as! Int), $0] } }
                guard !expected.isEmpty else { continue }
                let found = try #require(scalars[prefix + field], "no tag \(prefix + field) among \(scalars.keys.sorted())")
                #expect(found.map { $0[0] } == expected.map { $0[0] }, "\(prefix + field) steps")
                for (point, wanted) in zip(found, expected) {
                    #expect(abs(point[1] - wanted[1]) <= 1e-6 * max(1, abs(wanted[1])), "\(prefix + field) at \(wanted[0])")
                }
            }
        }
        #expect(scalars.keys.contains("validation/top5") && scalars.keys.contains("train/communication_ms"))
        let configText = try String(contentsOfFile: out + "/config.toml", encoding: .utf8)
        #expect(text["config"] == ["```\n" + configText + "```\n"])
    }
}
