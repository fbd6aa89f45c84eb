import HDF5
import NN

/// A new run's start from a model file (`model.init`): fine-tuning a converted torchvision model or an earlier
/// run's model.h5.
///
/// Every parameter and buffer is copied by name. The classifier (the parameters of the model's last layer) may
/// differ in size, as when the file was trained on other classes: it then keeps the fresh initialisation drawn from
/// the seed. Any other difference means the file holds another architecture, and is refused.
enum ModelInitialization {
    /// Copies the file's tensors into `model` and returns the names of the classifier tensors initialised afresh.
    static func apply(_ path: String, to model: Model, modelName: String) throws(TrainerError) -> [String] {
        guard ModelFile.isModelFile(path) else {
            throw .invalid("model.init = \"\(path)\" is not a dtrain model file (a run's model.h5, or a PyTorch state_dict converted by launch/from_pytorch.py)")
        }
        let parameters: [String: [Float]], buffers: [String: [Float]]
        do {
            (parameters, buffers) = (try ModelFile.readParameters(from: path), try ModelFile.readBuffers(from: path))
        } catch {
            throw .invalid("model.init = \"\(path)\": \(error)")
        }
        let classifier = model.parameterSegments.last.map { Self.layerName(of: $0.name) }
        var fresh: [String] = []
        var copies: [(values: [Float], destination: UnsafeMutablePointer<Float>)] = []
        let targets = model.parameterSegments.map { ($0.name, $0.count, $0.shape, parameters, model.parameters.pointer + $0.offset) }
            + model.bufferSegments.map { ($0.name, $0.count, $0.shape, buffers, model.buffers.pointer + $0.offset) }
        for (name, count, shape, stored, destination) in targets {
            let values = stored[name]
            if let values, values.count == count {
                copies.append((values, destination))
            } else if Self.layerName(of: name) == classifier {
                fresh.append(name)
            } else {
                throw .invalid("model.init = \"\(path)\" does not fit model \(modelName): "
                               + (values.map { "\(name) holds \($0.count) values there, the model's \(shape) \(count)" } ?? "it has no \(name)")
                               + " (only the classifier, \(classifier ?? "none"), may differ)")
            }
        }
        let known = Set(model.parameterSegments.map(\.name))
        if let extra = parameters.keys.sorted().first(where: { !known.contains($0) }) {
            throw .invalid("model.init = \"\(path)\" holds parameter \(extra), which model \(modelName) does not have")
        }
        for copy in copies { copy.values.withUnsafeBufferPointer { copy.destination.update(from: $0.baseAddress!, count: $0.count) } }
        return fresh
    }

    /// "fc" of "fc.weight", "layer1.0.conv1" of "layer1.0.conv1.weight".
    private static func layerName(of tensor: String) -> String {
        tensor.lastIndex(of: ".").map { String(tensor[..<$0]) } ?? tensor
    }
}
