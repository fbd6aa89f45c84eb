import Data
import Engine
import Foundation
import NN

/// A model file ready to classify images: the model its `config` attribute describes, holding the file's
/// parameters and buffers, with its class names, input shape and normalisation.
public final class Predictor {
    /// What the model file says about itself.
    public let description: ModelFile.Description
    private let model: Model
    private let config: TrainingConfig
    private let codec = ImageCodec()

    /// One class and its softmax probability.
    public struct Guess: Sendable {
        public let className: String
        public let probability: Double
    }

    /// Loads the model file at `path`.
    public init(modelFile path: String) throws(TrainerError) {
        guard ModelFile.isModelFile(path) else {
            throw .invalid("\(path) is not a dtrain model file (expected an HDF5 file with format \"\(ModelFile.format)\", such as a run's model.h5)")
        }
        do {
            description = try ModelFile.readDescription(from: path)
            config = try ConfigLoader.parse(text: description.configText, file: path + " (attribute config)").config
            let graph = try config.model.makeGraph(inputShape: description.inputShape, classes: description.classNames.count)
            model = try Model(graph: graph, inputShape: description.inputShape, seed: 0)
            try ModelFile.restore(path, into: model)
        } catch let error as TrainerError {
            throw error
        } catch {
            throw .invalid("\(error)")
        }
    }

    /// The model's scores [N, classes] for `images` [N, C, H, W], normalised as the model's inputs (evaluation mode).
    public func logits(_ images: Tensor) -> Tensor {
        model.forward(images, context: ForwardContext(mode: .evaluation, sampleIndices: Array(0..<images.shape[0])))
    }

    /// The `k` most probable classes of each image of `images` [N, C, H, W], normalised as the model's inputs.
    public func classify(_ images: Tensor, k: Int = 5) -> [[Guess]] {
        let logits = logits(images)
        let classes = description.classNames.count
        return (0..<images.shape[0]).map { row in
            let values = (0..<classes).map { Double(logits.pointer[row * classes + $0]) }
            let largest = values.max() ?? 0
            let exponentials = values.map { Foundation.exp($0 - largest) }
            let total = exponentials.reduce(0, +)
            return exponentials.indices.sorted { exponentials[$0] > exponentials[$1] }.prefix(k).map {
                Guess(className: description.classNames[$0], probability: exponentials[$0] / total)
            }
        }
    }

    /// The network input of a PNG or JPEG file: resized (shorter side to the evaluation resize) and centre-cropped to
    /// the input's side, turned to grey for a one-channel model, normalised by the model's mean and std.
    public func input(imageFile path: String) throws(TrainerError) -> Tensor {
        let (channels, height, width) = (description.inputShape[0], description.inputShape[1], description.inputShape[2])
        guard height == width, channels == 1 || channels == 3 else {
            throw .invalid("\(description.model) takes inputs of \(description.inputShape); images are predicted for square inputs of 1 or 3 channels only")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw .invalid("\(path): cannot read the file") }
        // Images stored encoded were evaluated after a resize to data.resize; decoded ones are their own size.
        let resize = config.data.imageSize != nil ? config.data.resize ?? width * 8 / 7 : width
        let mean = channels == 1 ? Array(repeating: description.mean[0], count: 3) : description.mean
        let std = channels == 1 ? Array(repeating: description.std[0], count: 3) : description.std
        let transform = ImageTransform(kind: .resizeCenterCrop(resize: resize), size: width, seed: 0, mean: mean, std: std)
        let rgb = Tensor(zeros: transform.outputShape)
        let bytes = [UInt8](data)
        let failure = bytes.withUnsafeBytes { bytes -> String? in
            do {
                let size = try codec.size(of: bytes)
                try transform.apply(bytes, width: size.width, height: size.height, index: 0, epoch: 0, codec: codec,
                                    into: rgb.pointer)
                return nil
            } catch {
                return "\(error)"
            }
        }
        if let failure { throw .invalid("\(path): \(failure)") }
        guard channels == 1 else { return rgb }
        // Normalisation is the same affine map on every channel, so the luma of the normalised channels is the
        // normalised luma (ITU-R 601 weights, as Pillow's convert("L")).
        let grey = Tensor(zeros: [1, height, width]), plane = height * width
        for i in 0..<plane {
            grey.pointer[i] = 0.299 * rgb.pointer[i] + 0.587 * rgb.pointer[plane + i] + 0.114 * rgb.pointer[2 * plane + i]
        }
        return grey
    }

    /// The network inputs of samples `rows` of a dtrain dataset file (decoded images of the model's input shape),
    /// with their labels, normalised by the model's mean and std (its training split's) as evaluation does.
    public func inputs(datasetFile path: String, rows: Range<Int>) throws(TrainerError) -> (images: Tensor, labels: [Int]) {
        let dataset: DatasetFile
        do { dataset = try DatasetFile(path: path) } catch { throw .invalid("\(error)") }
        guard dataset.sampleShape == description.inputShape else {
            throw .invalid("\(path) holds images of \(dataset.sampleShape), the model takes \(description.inputShape)")
        }
        let rows = rows.clamped(to: 0..<dataset.count)
        let sample = dataset.sampleBytes, plane = sample / description.inputShape[0]
        var pixels = [UInt8](repeating: 0, count: rows.count * sample)
        let failure = pixels.withUnsafeMutableBufferPointer { buffer -> String? in
            do { try dataset.readImages(rows: rows, into: buffer.baseAddress!) } catch { return "\(error)" }
            return nil
        }
        if let failure { throw .invalid("\(failure)") }
        let images = Tensor(zeros: [rows.count] + description.inputShape)
        for i in 0..<pixels.count {
            let channel = i % sample / plane
            images.pointer[i] = Float((Double(pixels[i]) / 255 - description.mean[channel]) / description.std[channel])
        }
        return (images, dataset.labels[rows].map(Int.init))
    }
}
