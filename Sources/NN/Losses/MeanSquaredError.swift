import Engine

/// The mean of squared differences over each sample's outputs (PyTorch's `MSELoss` when averaged over the batch).
public enum MeanSquaredError {
    /// Returns the summed per-sample loss of the batch and writes d(loss sum)/d(predictions) / `normalizer` into
    /// `gradient`. predictions, targets and gradient are (N, D); a sample's loss is mean_j (p_j - t_j)^2.
    public static func evaluate(predictions: Tensor, targets: Tensor, normalizer: Int, gradient: Tensor) -> Double {
        precondition(predictions.shape == targets.shape && predictions.shape == gradient.shape && predictions.rank >= 1,
                     "MeanSquaredError: predictions \(predictions.shape), targets \(targets.shape), gradient \(gradient.shape)")
        let perSample = predictions.count / max(predictions.shape[0], 1)
        let scale = 2 / Float(perSample * normalizer)
        var total = 0.0
        for i in 0..<predictions.count {
            let difference = predictions.pointer[i] - targets.pointer[i]
            total += Double(difference) * Double(difference)
            gradient.pointer[i] = scale * difference
        }
        return total / Double(perSample)
    }
}
