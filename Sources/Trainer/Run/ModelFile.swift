import Foundation
import HDF5
import NN

/// The trained model as an HDF5 file: `parameters/<name>` and `buffers/<name>` float32 datasets under their
/// torchvision names and shapes, so that `torch.from_numpy(f["parameters"][name][()])` fills a PyTorch model.
public enum ModelFile {
    /// Writes `model` to `path` atomically: a temporary file, flushed, closed and synced, then renamed over `path`.
    public static func write(_ model: Model, to path: String) throws(HDF5Error) {
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

    /// Every parameter's values by name, as stored.
    public static func readParameters(from path: String) throws(HDF5Error) -> [String: [Float]] {
        let file = try HDF5File.open(path)
        let group = try file.openGroup("parameters")
        var values: [String: [Float]] = [:]
        for name in try group.memberNames() {
            values[name] = try group.openDataset(name).readAll(as: Float.self)
        }
        return values
    }

    private static func store(_ values: [Float], shape: [Int], as name: String, in group: HDF5Group) throws(HDF5Error) {
        // A scalar (num_batches_tracked) is stored with one element.
        try group.createDataset(name, type: .float32, shape: shape.isEmpty ? [1] : shape).writeAll(values)
    }
}
