import Foundation
import Engine
import NN
import Testing

/// PyTorch's `F.cross_entropy(logits, labels, label_smoothing=ε)` and its gradient for one ε.
struct LabelSmoothingReference: Sendable {
    let smoothing: Float
    /// The mean loss over the batch.
    let loss: Double
    /// d(mean loss)/d(logits), [rows, classes] flattened.
    let gradient: [Float]
}

/// Cross-entropy with label smoothing against PyTorch's values (Tests/References/label_smoothing.py) and against
/// finite differences of itself.
@Suite struct LabelSmoothingTests {
    /// The reference logits: z[i] = 4 cos(0.37 i + 0.2), as label_smoothing.py computes them.
    static func logits() -> Tensor {
        let (rows, classes) = (LabelSmoothingReferences.rows, LabelSmoothingReferences.classes)
        return Tensor(shape: [rows, classes], values: (0..<rows * classes).map { Float(4 * cos(0.37 * Double($0) + 0.2)) })
    }

    @Test(arguments: LabelSmoothingReferences.cases.map(\.smoothing))
    func matchesPyTorch(smoothing: Float) {
        let reference = LabelSmoothingReferences.cases.first { $0.smoothing == smoothing }!
        let logits = Self.logits(), rows = LabelSmoothingReferences.rows
        let gradient = Tensor(zeros: logits.shape)
        let loss = SoftmaxCrossEntropy.evaluate(logits: logits, labels: LabelSmoothingReferences.labels, normalizer: rows,
                                                gradient: gradient, labelSmoothing: smoothing) / Double(rows)
        let largest = reference.gradient.reduce(0) { max($0, abs($1)) }
        let difference = zip(gradient.scalars, reference.gradient).reduce(0) { max($0, abs($1.0 - $1.1)) }
        print("label smoothing \(smoothing) vs PyTorch: loss \(loss) vs \(reference.loss), largest gradient difference \(difference)")
        #expect(abs(loss - reference.loss) <= 1e-6 * reference.loss, "loss \(loss), PyTorch \(reference.loss)")
        #expect(difference <= 1e-5 * largest, "gradient differs by \(difference) of the largest element \(largest)")
    }

    @Test func gradientMatchesFiniteDifferences() {
        let logits = Self.logits(), labels = LabelSmoothingReferences.labels, rows = LabelSmoothingReferences.rows
        let gradient = Tensor(zeros: logits.shape)
        _ = SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels, normalizer: rows, gradient: gradient,
                                         labelSmoothing: 0.1)
        let result = GradientCheck.compare("label-smoothed cross-entropy", values: logits, analytic: gradient, step: 1e-2) {
            SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels, normalizer: rows, gradient: Tensor(zeros: logits.shape),
                                         labelSmoothing: 0.1) / Double(rows)
        }
        print("gradient check \(result)")
        #expect(result.worstRelativeError < 2e-3, "\(result)")
    }
}
