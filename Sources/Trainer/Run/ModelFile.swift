import Foundation
import HDF5
import NN

/// The trained model as an HDF5 file: `parameters/<name>` and `buffers/<name>` float32 datasets under their
/// torchvision names and shapes, so that `torch.from_numpy(f["parameters"][name][()])` fills a PyTorch model, and
/// attributes that say what it is: `format` "dtrain-model", `version`, `model` (the zoo name), `config` (the
/// resolved config it was trained with), `classes`, `input_shape` [C, H, W], and the input normalisation `mean`
/// and `std` per channel.
public enum ModelFile {
    /// The value of the `format` attribute.
    public static let format = "dtrain-model"
    /// The layout version written.
    public static let version = 1

    /// What a model file says about its model besides the numbers.
    public struct Description: Sendable, Equatable {
        public var model: String
        public var configText: String
        public var classNames: [String]
        public var inputShape: [Int]
        public var mean: [Double]
        public var std: [Double]

        public init(model: String, configText: String, classNames: [String], inputShape: [Int], mean: [Double],
                    std: [Double]) {
            (self.model, self.configText, self.classNames) = (model, configText, classNames)
            (self.inputShape, self.mean, self.std) = (inputShape, mean, std)
        }
    }

    /// Writes `model` to `path` atomically: a temporary file, flushed, closed and synced, then renamed over `path`.
    public static func write(_ model: Model, describedBy description: Description, to path: String) throws(HDF5Error) {
        let temporary = path + ".tmp"
        do {
            let file = try HDF5File.create(temporary)
            let parameters = try file.createGroup("parameters"), buffers = try file.createGroup("buffers")
            for segment in model.parameterSegments {
                try store(model.parameter(named: segment.name)!.scalars, shape: segment.shape, as: segment.name, in: parameters)
            }
            for segment in model.bufferSegments {
                try store(model.buffer(named: segment.name)!.scalars, shape: segment.shape, as: segment.name, in: buffers)
            }
            let attributes = try file.attributes
            try attributes.set("format", format)
            try attributes.set("version", version)
            try attributes.set("model", description.model)
            try attributes.set("config", description.configText)
            try attributes.set("classes", description.classNames)
            try attributes.set("input_shape", description.inputShape)
            try attributes.set("mean", description.mean)
            try attributes.set("std", description.std)
            try file.flush()
            try file.close()
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        do { try DurableRename.move(temporary, to: path) } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    /// Whether the file at `path` is a model file (by its `format`, or, for files written before model files
    /// described themselves, by holding `/parameters` without any `format`).
    public static func isModelFile(_ path: String) -> Bool {
        guard let file = try? HDF5File.open(path) else { return false }
        if let found = try? file.attributes.read("format", as: String.self) { return found == format }
        return file.hasObject("parameters")
    }

    /// What the model file at `path` says about its model.
    public static func readDescription(from path: String) throws(HDF5Error) -> Description {
        let attributes = try HDF5File.open(path).attributes
        return Description(model: try attributes.read("model", as: String.self),
                           configText: try attributes.read("config", as: String.self),
                           classNames: try attributes.read("classes", as: [String].self),
                           inputShape: try attributes.read("input_shape", as: [Int].self),
                           mean: try attributes.read("mean", as: [Double].self),
                           std: try attributes.read("std", as: [Double].self))
    }

    /// Every parameter's values by name, as stored.
    public static func readParameters(from path: String) throws(HDF5Error) -> [String: [Float]] {
        try readGroup("parameters", from: try HDF5File.open(path))
    }

    /// Every buffer's values by name, as stored (none for a file without `/buffers`).
    public static func readBuffers(from path: String) throws(HDF5Error) -> [String: [Float]] {
        let file = try HDF5File.open(path)
        return file.hasObject("buffers") ? try readGroup("buffers", from: file) : [:]
    }

    /// Copies the file's parameters and buffers into `model`, after checking every name and element count, so
    /// that a failed restore leaves the model as it was.
    public static func restore(_ path: String, into model: Model) throws(HDF5Error) {
        let file = try HDF5File.open(path)
        let parameters = try readGroup("parameters", from: file)
        let buffers = file.hasObject("buffers") ? try readGroup("buffers", from: file) : [:]
        let targets = model.parameterSegments.map { ($0.name, $0.offset, $0.count, "parameters", model.parameters.pointer) }
            + model.bufferSegments.map { ($0.name, $0.offset, $0.count, "buffers", model.buffers.pointer) }
        for (name, _, count, group, _) in targets {
            let stored = (group == "parameters" ? parameters : buffers)[name]
            guard let stored else { throw .missingObject(file: path, object: "/\(group)/\(name)") }
            guard stored.count == count else {
                throw .invalidRequest(file: path, object: "/\(group)/\(name)",
                                      reason: "holds \(stored.count) values, the model's tensor \(count)")
            }
        }
        for (name, offset, count, group, base) in targets {
            let stored = (group == "parameters" ? parameters : buffers)[name]!
            stored.withUnsafeBufferPointer { (base + offset).update(from: $0.baseAddress!, count: count) }
        }
    }

    private static func readGroup(_ name: String, from file: HDF5File) throws(HDF5Error) -> [String: [Float]] {
        let group = try file.openGroup(name)
        var values: [String: [Float]] = [:]
        for member in try group.memberNames() {
            values[member] = try group.openDataset(member).readAll(as: Float.self)
        }
        return values
    }

    private static func store(_ values: [Float], shape: [Int], as name: String, in group: HDF5Group) throws(HDF5Error) {
        // A scalar (num_batches_tracked) is stored with one element.
        try group.createDataset(name, type: .float32, shape: shape.isEmpty ? [1] : shape).writeAll(values)
    }
}
