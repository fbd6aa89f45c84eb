import ArgumentParser
import Engine
import Foundation
import Trainer

/// `dtrain predict MODEL.h5 IMAGE...`: the five most probable classes of each image, by name.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify PNG or JPEG images (or the samples of a dtrain HDF5 dataset) with a model file.",
        discussion: """
            The model file (a run's model.h5) says which model it is, its classes, input shape and normalisation.
            Images are resized and centre-cropped as evaluation does; a one-channel model sees their grey values.
            Exit status: 0 done, 2 a file could not be read or does not fit the model (one line says which).
            """)

    @Argument(help: "The model file (a run's model.h5).")
    var model: String

    @Argument(help: "PNG or JPEG files, or dtrain HDF5 dataset files (their first --count samples).")
    var inputs: [String]

    @Option(help: "Samples classified from each HDF5 dataset file.")
    var count: Int = 5

    @Option(help: "Classes printed per image.")
    var top: Int = 5

    func run() throws {
        do {
            let predictor = try Predictor(modelFile: model)
            for path in inputs {
                if path.hasSuffix(".h5") || path.hasSuffix(".hdf5") {
                    let (images, labels) = try predictor.inputs(datasetFile: path, rows: 0..<count)
                    for (index, guesses) in predictor.classify(images, k: top).enumerated() {
                        let label = predictor.description.classNames[labels[index]]
                        print(Self.format("\(path)[\(index)] (labelled \(label))", guesses))
                    }
                } else {
                    let image = try predictor.input(imageFile: path)
                    let batch = Tensor(zeros: [1] + image.shape)
                    batch.copy(from: image)
                    print(Self.format(path, predictor.classify(batch, k: top)[0]))
                }
            }
        } catch {
            FileHandle.standardError.write("dtrain: \(error)\n".data(using: .utf8)!)
            throw ExitCode(2)
        }
    }

    /// "digit.png: 7 99.97%, 3 0.0213%, ...".
    static func format(_ what: String, _ guesses: [Predictor.Guess]) -> String {
        what + ": " + guesses.map { String(format: "%@ %.4g%%", $0.className, 100 * $0.probability) }.joined(separator: ", ")
    }
}
