import Data
import Foundation
import MPITestSupport
import Testing

/// `dtrain predict MODEL.h5 ...` on a run's model file: on the validation set it agrees with the run's own
/// validation top-1, and an image file gives the same top class as its dataset sample.

@Suite struct PredictCommandTests {
    @Test func predictionsAgreeWithTheRunsValidation() throws {
        let scratch = try TrainerRunSupport("predict")
        defer { scratch.remove() }
        let train = try scratch.synthetic("train.h5", count: 512, seed: 1)
        let validation = try scratch.synthetic("val.h5", count: 100, seed: 2)
        let out = scratch.path("run")
        let config = try scratch.config("lenet.toml", scratch.lenetConfig(train: train, validation: validation, out: out))
        try #require(try scratch.dtrain([config], ranks: 2).status == 0)
        let model = out + "/model.h5"

        let predicted = try scratch.dtrainAlone(["predict", model, validation, "--count", "100"])
        try #require(predicted.status == 0, "\(predicted.stderr)")
        let lines = predicted.stdout.split(separator: "\n")
        #expect(lines.count == 100)
        let correct = lines.filter { line in
            // "val.h5[3] (labelled class7): class7 98.12%, class1 0.50%, ..."
            let label = line.split(separator: "(labelled ").last?.split(separator: ")").first
            let top = line.split(separator: "): ").last?.split(separator: " ").first
            return label != nil && label == top
        }.count
        let metrics = try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8)
        let evaluation = try #require(metrics.split(separator: "\n").last { $0.contains("\"eval\"") })
        let top1 = try #require((try JSONSerialization.jsonObject(with: Data(evaluation.utf8)) as? [String: Any])?["top1"] as? Double)
        #expect(Double(correct) / 100 == top1, "predict: \(correct) of 100 correct; the run's validation: top-1 \(top1)")
        #expect(lines.allSatisfy { $0.split(separator: "%,").count == 5 }, "\(lines.first ?? "")")

        // Sample 0 as a JPEG (quality 100), grey in all three channels.
        let dataset = try DatasetFile(path: validation)
        var grey = [UInt8](repeating: 0, count: 28 * 28)
        try grey.withUnsafeMutableBufferPointer { try dataset.readImages(rows: 0..<1, into: $0.baseAddress!) }
        let jpeg = try ImageCodec().encodeJPEG(RGBImage(width: 28, height: 28, pixels: grey.flatMap { [$0, $0, $0] }), quality: 100)
        let image = scratch.path("sample0.jpg")
        try Data(jpeg).write(to: URL(fileURLWithPath: image))
        let single = try scratch.dtrainAlone(["predict", model, image])
        try #require(single.status == 0, "\(single.stderr)")
        print(single.stdout + lines[0])
        let topOfImage = single.stdout.split(separator: ": ").dropFirst().first?.split(separator: " ").first
        let topOfSample = lines[0].split(separator: "): ").last?.split(separator: " ").first
        #expect(topOfImage != nil && topOfImage == topOfSample, "\(single.stdout) vs \(lines[0])")

        let notAModel = try scratch.dtrainAlone(["predict", validation, image])
        #expect(notAModel.status == 2)
        #expect(notAModel.stderr.hasPrefix("dtrain: \(validation) is not a dtrain model file"), "\(notAModel.stderr)")
    }
}
