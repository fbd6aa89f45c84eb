import NN

/// A verified checkpoint read from disk.
public struct Checkpoint: Sendable {
    /// The file it was read from.
    public let path: String
    /// Where training stood when it was written.
    public let state: CheckpointState
    /// Every parameter's values by torchvision name.
    public let parameters: [String: [Float]]
    /// Every parameter's shape as stored (a scalar is stored as [1]).
    public let parameterShapes: [String: [Int]]
    /// Every buffer's values (batch-norm statistics) by torchvision name.
    public let buffers: [String: [Float]]
    /// The optimizer's step count and per-element buffers.
    public let optimizer: OptimizerState
    /// Every buffer's shape as stored, checked by `restore`.
    let bufferShapes: [String: [Int]]

    init(path: String, state: CheckpointState, parameters: [String: [Float]], parameterShapes: [String: [Int]],
         buffers: [String: [Float]], bufferShapes: [String: [Int]], optimizer: OptimizerState) {
        self.path = path
        self.state = state
        self.parameters = parameters
        self.parameterShapes = parameterShapes
        self.buffers = buffers
        self.bufferShapes = bufferShapes
        self.optimizer = optimizer
    }

    /// A 64-bit digest of every tensor (parameters, buffers, optimizer buffers) with its name, in 16 hex digits.
    ///
    /// Unlike the file's checksum it leaves out the attributes (config text, metrics), so two runs with different
    /// output directories that reached the same state have the same digest: equal digests, bitwise equal tensors.
    public var tensorDigest: String {
        var checksum = CheckpointChecksum()
        let groups = [("buffers", buffers), ("optimizer", optimizer.buffers), ("parameters", parameters)]
        for (group, tensors) in groups {
            for name in tensors.keys.sorted(by: CheckpointFile.byteOrder) {
                checksum.add(group + "/" + name)
                tensors[name]!.withUnsafeBufferPointer { checksum.add($0) }
            }
        }
        return checksum.hex
    }

    /// Copies parameters and buffers into `model`; throws naming the first missing/extra name or shape mismatch.
    ///
    /// Everything is checked before anything is copied, so a failed restore leaves the model as it was.
    public func restore(into model: Model) throws(CheckpointError) {
        let parameterTargets = model.parameterSegments.map { ($0.name, $0.offset, $0.shape) }
        let bufferTargets = model.bufferSegments.map { ($0.name, $0.offset, $0.shape) }
        try check(parameterTargets, against: parameterShapes, kind: "parameter")
        try check(bufferTargets, against: bufferShapes, kind: "buffer")
        for (name, offset, _) in parameterTargets {
            parameters[name]!.withUnsafeBufferPointer { values in
                guard let source = values.baseAddress else { return }
                (model.parameters.pointer + offset).update(from: source, count: values.count)
            }
        }
        for (name, offset, _) in bufferTargets {
            buffers[name]!.withUnsafeBufferPointer { values in
                guard let source = values.baseAddress else { return }
                (model.buffers.pointer + offset).update(from: source, count: values.count)
            }
        }
    }

    /// Throws unless the model's tensors and the stored ones have the same names and shapes, in the model's order.
    private func check(_ targets: [(String, Int, [Int])], against stored: [String: [Int]],
                       kind: String) throws(CheckpointError) {
        for (name, _, shape) in targets {
            guard let storedShape = stored[name] else { throw .missingTensor(file: path, kind: kind, name: name) }
            let modelShape = CheckpointFile.storedShape(shape)
            guard storedShape == modelShape else {
                throw .shapeMismatch(file: path, name: name, checkpoint: storedShape, model: modelShape)
            }
        }
        let names = Set(targets.map(\.0))
        for name in stored.keys.sorted() where !names.contains(name) {
            throw .unexpectedTensor(file: path, kind: kind, name: name)
        }
    }
}
