import Engine

/// What an optimizer needs to continue exactly: its step count and its per-element buffers.
///
/// Buffers are named as PyTorch names them in `optimizer.state_dict()` (`momentum_buffer`, `exp_avg`,
/// `exp_avg_sq`, `sum`, `square_avg`, `grad_avg`), each the concatenation over the model's flat parameter buffer.
public struct OptimizerState: Sendable, Equatable {
    /// The number of steps taken so far.
    public var step: Int
    /// The per-element buffers by name, each as long as the flat parameter buffer.
    public var buffers: [String: [Float]]

    /// A state at `step` with the given buffers.
    public init(step: Int, buffers: [String: [Float]]) {
        self.step = step
        self.buffers = buffers
    }
}

extension OptimizerState {
    /// The state of an optimizer that keeps `tensors`, copied out of them.
    init(step: Int, tensors: [String: Tensor]) {
        self.init(step: step, buffers: tensors.mapValues(\.scalars))
    }

    /// Copies every buffer into the tensor of the same name after checking that names and sizes all match.
    ///
    /// Nothing is written unless everything matches, so a failed restore leaves the optimizer as it was.
    func copy(into tensors: [String: Tensor], optimizer: String) throws(OptimizerStateError) {
        guard step >= 0 else { throw .negativeStep(optimizer: optimizer, step: step) }
        for name in tensors.keys.sorted() where buffers[name] == nil {
            throw .missingBuffer(optimizer: optimizer, name: name)
        }
        for name in buffers.keys.sorted() where tensors[name] == nil {
            throw .unexpectedBuffer(optimizer: optimizer, name: name, expected: tensors.keys.sorted())
        }
        for (name, tensor) in tensors.sorted(by: { $0.key < $1.key }) where buffers[name]!.count != tensor.count {
            throw .sizeMismatch(optimizer: optimizer, name: name, expected: tensor.count, found: buffers[name]!.count)
        }
        for (name, tensor) in tensors {
            buffers[name]!.withUnsafeBufferPointer { tensor.pointer.update(from: $0.baseAddress!, count: tensor.count) }
        }
    }
}
