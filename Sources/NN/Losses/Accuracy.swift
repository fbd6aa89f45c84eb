import Engine

/// Counts of correct top-k predictions, the numbers that ranks sum to get an exact accuracy.
public enum Accuracy {
    /// The number of rows of `logits` (N, K) whose label is among the `k` largest logits.
    ///
    /// A label ties in rank with a larger-or-equal logit only if that logit comes first, matching `torch.topk`'s
    /// stable order on ties closely enough for counting.
    public static func correct(logits: Tensor, labels: [Int], k: Int) -> Int {
        precondition(logits.rank == 2 && labels.count == logits.shape[0], "Accuracy: logits \(logits.shape), \(labels.count) labels")
        let classes = logits.shape[1]
        var count = 0
        for row in 0..<logits.shape[0] {
            let z = logits.pointer + row * classes
            let target = z[labels[row]]
            var above = 0
            for j in 0..<classes where z[j] > target || (z[j] == target && j < labels[row]) { above += 1 }
            if above < k { count += 1 }
        }
        return count
    }
}
