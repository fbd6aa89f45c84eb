import Foundation
import Engine
import NN
import Testing

@Suite struct LossTests {
    /// The loss mean over the batch, against centred differences of itself.
    func check(_ name: String, logits: Tensor, loss: (Tensor) -> Double, tolerance: Double) {
        let gradient = Tensor(zeros: logits.shape)
        _ = loss(gradient)
        let result = GradientCheck.compare(name, values: logits, analytic: gradient, step: 1e-2) {
            loss(Tensor(zeros: logits.shape))
        }
        print("gradient check \(result)")
        #expect(result.worstRelativeError < tolerance, "\(result)")
    }

    @Test func softmaxCrossEntropyGradient() {
        let logits = LayerGradientTests.input([5, 7], seed: 21)
        for i in 0..<logits.count { logits.pointer[i] *= 3 }
        let labels = [0, 3, 6, 2, 3]
        check("softmax cross-entropy", logits: logits, loss: {
            SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels, normalizer: 5, gradient: $0) / 5
        }, tolerance: 2e-3)
    }

    /// The seed's identity: the gradient with respect to the logits is softmax(z) - onehot(y).
    @Test func softmaxCrossEntropyIsSoftmaxMinusOneHot() {
        let logits = Tensor(shape: [1, 3], values: [1, 2, 3])
        let gradient = Tensor(zeros: [1, 3])
        let loss = SoftmaxCrossEntropy.evaluate(logits: logits, labels: [1], normalizer: 1, gradient: gradient)
        let e = [1.0, 2.0, 3.0].map { Foundation.exp($0) }
        let softmax = e.map { $0 / e.reduce(0, +) }
        #expect(abs(loss - (-Foundation.log(softmax[1]))) < 1e-6)
        for (j, expected) in [softmax[0], softmax[1] - 1, softmax[2]].enumerated() {
            #expect(abs(Double(gradient.pointer[j]) - expected) < 1e-6)
        }
    }

    @Test func softmaxCrossEntropyIsStableForHugeLogits() {
        let logits = Tensor(shape: [2, 3], values: [1000, -1000, 0, -5000, 5000, 5000])
        let gradient = Tensor(zeros: [2, 3])
        let loss = SoftmaxCrossEntropy.evaluate(logits: logits, labels: [0, 1], normalizer: 2, gradient: gradient)
        #expect(loss.isFinite && abs(loss - Foundation.log(2.0)) < 1e-5)
        #expect(gradient.scalars.allSatisfy { $0.isFinite })
    }

    @Test func meanSquaredErrorGradient() {
        let predictions = LayerGradientTests.input([4, 3], seed: 22)
        let targets = LayerGradientTests.input([4, 3], seed: 23)
        check("mean squared error", logits: predictions, loss: {
            MeanSquaredError.evaluate(predictions: predictions, targets: targets, normalizer: 4, gradient: $0) / 4
        }, tolerance: 1e-3)
    }

    @Test func topKAccuracyCounts() {
        let logits = Tensor(shape: [3, 4], values: [0.1, 0.9, 0.3, 0.2, 0.5, 0.1, 0.2, 0.4, 0.3, 0.2, 0.1, 0.0])
        #expect(Accuracy.correct(logits: logits, labels: [1, 3, 2], k: 1) == 1)
        #expect(Accuracy.correct(logits: logits, labels: [1, 3, 2], k: 2) == 2)
        #expect(Accuracy.correct(logits: logits, labels: [1, 3, 2], k: 3) == 3)
    }
}
