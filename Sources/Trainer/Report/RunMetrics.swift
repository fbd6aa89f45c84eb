import Foundation

/// A run's learning curves as its `metrics.jsonl` records them: training records per logged step and validation
/// records per epoch.
public struct RunMetrics: Sendable {
    /// The run's name: its directory's last component.
    public let name: String
    /// (global step, value) of every training record, per field: loss, accuracy, lr, images_per_second, ...
    public let training: [String: [(step: Double, value: Double)]]
    /// (epoch, value) of every validation record, per field: loss, top1, top5.
    public let validation: [String: [(epoch: Double, value: Double)]]

    /// Reads `<directory>/metrics.jsonl`.
    public init(directory: String) throws(TrainerError) {
        let path = directory + "/metrics.jsonl"
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw .invalid("\(path): no such file (a run directory holds the metrics.jsonl its run wrote)")
        }
        name = (directory as NSString).standardizingPath.split(separator: "/").last.map(String.init) ?? directory
        var training: [String: [(step: Double, value: Double)]] = [:]
        var validation: [String: [(epoch: Double, value: Double)]] = [:]
        for (number, line) in text.split(separator: "\n").enumerated() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let type = object["type"] as? String else {
                throw .invalid("\(path): line \(number + 1) is not a metrics record (a JSON object with a type)")
            }
            let numbers = object.compactMapValues { ($0 as? NSNumber)?.doubleValue }
            if type == "train", let step = numbers["global_step"] {
                for (key, value) in numbers { training[key, default: []].append((step, value)) }
            } else if type == "eval", let epoch = numbers["epoch"] {
                for (key, value) in numbers { validation[key, default: []].append((epoch, value)) }
            }
        }
        // A resumed run appends records of the steps it repeats, equal to the first ones (resume is exact), and
        // `dtrain eval` appends the evaluation of a finished model under an epoch the run has already recorded: the
        // first record of a step or epoch is the run's own.
        self.training = training.mapValues { Self.firstPerPosition($0.map { ($0.step, $0.value) }).map { (step: $0.0, value: $0.1) } }
        self.validation = validation.mapValues { Self.firstPerPosition($0.map { ($0.epoch, $0.value) }).map { (epoch: $0.0, value: $0.1) } }
    }

    private static func firstPerPosition(_ points: [(Double, Double)]) -> [(Double, Double)] {
        var first: [Double: Double] = [:]
        for (position, value) in points where first[position] == nil { first[position] = value }
        return first.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
