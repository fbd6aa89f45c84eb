import Foundation
import Engine

/// Softmax followed by cross-entropy, fused so that it is numerically stable and its gradient is one subtraction.
public enum SoftmaxCrossEntropy {
    /// Returns the summed loss of the batch and writes d(loss sum)/d(logits) / `normalizer` into `gradient`.
    ///
    /// logits and gradient are (N, K); labels are N class indices. Each row's loss is logsumexp(z) - z[label]
    /// with the maximum subtracted first; its gradient is softmax(z) - onehot(label). Dividing by the global batch
    /// (not the local one) makes the ranks' summed gradients the gradient of the global mean loss.
    ///
    /// With `labelSmoothing` ε the target is (1 - ε) onehot(label) + ε / K, as PyTorch's
    /// `CrossEntropyLoss(label_smoothing=ε)`: the loss is logsumexp(z) - Σ target_j z_j and the gradient
    /// softmax(z) - target.
    public static func evaluate(logits: Tensor, labels: [Int], normalizer: Int, gradient: Tensor,
                                labelSmoothing: Float = 0) -> Double {
        precondition(logits.rank == 2 && logits.shape == gradient.shape && labels.count == logits.shape[0],
                     "SoftmaxCrossEntropy: logits \(logits.shape), gradient \(gradient.shape), \(labels.count) labels")
        let (n, k) = (logits.shape[0], logits.shape[1])
        precondition(labelSmoothing >= 0 && labelSmoothing <= 1, "SoftmaxCrossEntropy: label smoothing \(labelSmoothing)")
        let scale = 1 / Float(normalizer)
        let smoothing = Double(labelSmoothing), spread = Double(labelSmoothing) / Double(k)
        var total = 0.0
        for row in 0..<n {
            let z = logits.pointer + row * k, g = gradient.pointer + row * k
            let label = labels[row]
            precondition(label >= 0 && label < k, "SoftmaxCrossEntropy: label \(label) outside 0..<\(k)")
            // In Double: the loss is reported and summed across ranks, and (max - z[label]) + log(sum) keeps
            // its precision even when the logits are in the thousands.
            var maximum = -Double.infinity
            for j in 0..<k { maximum = max(maximum, Double(z[j])) }
            var sum = 0.0
            for j in 0..<k { sum += Foundation.exp(Double(z[j]) - maximum) }
            var target = (1 - smoothing) * (Double(z[label]) - maximum)
            if smoothing > 0 {
                var centred = 0.0
                for j in 0..<k { centred += Double(z[j]) - maximum }
                target += spread * centred
            }
            total += Foundation.log(sum) - target
            let inverse = Double(scale) / sum
            for j in 0..<k { g[j] = Float((Foundation.exp(Double(z[j]) - maximum) * inverse - spread * Double(scale))) }
            g[label] -= Float((1 - smoothing) * Double(scale))
        }
        return total
    }
}
