import Engine

/// Inverted dropout: in training, zeroes each element with probability p and scales the rest by 1 / (1 - p).
///
/// The mask of a sample is drawn from Philox at (seed; stream = layer, epoch; index = sample, element), so it does
/// not depend on which rank computes the sample or on how the run was interrupted.
public final class Dropout: Layer {
    /// The probability of zeroing an element.
    public let probability: Float
    private var mask: Tensor?
    private var pool = TensorPool()

    public init(probability: Float) {
        precondition(probability >= 0 && probability < 1, "Dropout: probability \(probability) is not in [0, 1)")
        self.probability = probability
    }

    public func share(_ memory: SharedMemory) {
        pool = memory.pool
    }

    public func outputShape(for inputShapes: [[Int]]) throws(ShapeError) -> [Int] {
        inputShapes[0]
    }

    public func forward(_ inputs: [Tensor], context: ForwardContext) -> Tensor {
        let x = inputs[0]
        guard context.mode == .training, probability > 0 else {
            mask = nil
            return x
        }
        let m = pool.tensor(shape: x.shape)
        precondition(context.sampleIndices.count == x.shape[0],
                     "Dropout: \(context.sampleIndices.count) sample indices for a batch of \(x.shape[0])")
        let perSample = x.count / x.shape[0]
        let philox = Philox(seed: context.seed)
        let stream = UInt64(context.layerIndex) << 32 | UInt64(context.epoch)
        let keep = 1 / (1 - probability)
        for (row, sample) in context.sampleIndices.enumerated() {
            let rowMask = m.pointer + row * perSample
            philox.fillUniform(rowMask, count: perSample, stream: stream, start: UInt64(sample) * UInt64(perSample))
            for j in 0..<perSample { rowMask[j] = rowMask[j] < probability ? 0 : keep }
        }
        let y = pool.tensor(shape: x.shape)
        Elementwise.multiply(x.pointer, m.pointer, y.pointer, count: x.count)
        mask = m
        return y
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> [Tensor] {
        guard needsInputGradient else { return [] }
        guard let mask else { return [outputGradient] }
        let dx = pool.tensor(shape: outputGradient.shape)
        Elementwise.multiply(outputGradient.pointer, mask.pointer, dx.pointer, count: dx.count)
        return [dx]
    }

    public func releaseCaches() {
        mask = nil
    }
}
