import Engine
import NN
import Testing

/// Every layer's input and parameter gradients against centred finite differences.
///
/// Layers linear in the checked values (dense, convolution, average pooling, addition, dropout) are checked with
/// h = 0.5, for which centred differences are exact, so only float rounding remains; max pooling with h = 1e-3
/// (below the gap between values); smooth nonlinear layers (tanh, sigmoid, batch norm) with h = 1e-2, leaving the
/// O(h^2) truncation.
@Suite struct LayerGradientTests {
    /// Values spread over [-1, 1] but at least `gap` from zero and from each other's kinks, so that ReLU and max
    /// pooling are differentiable at every checked point.
    static func input(_ shape: [Int], seed: UInt64, distinct: Bool = false) -> Tensor {
        let tensor = Tensor(zeros: shape)
        let philox = Philox(seed: seed)
        if distinct {
            // A shuffled ramp: every value differs from every other by at least 2 / count.
            var values = (0..<tensor.count).map { -1 + 2 * (Float($0) + 0.5) / Float(tensor.count) }
            for i in stride(from: values.count - 1, to: 0, by: -1) {
                let j = Int(philox.uniform(stream: 1, index: UInt64(i)) * Float(i + 1))
                values.swapAt(i, min(j, i))
            }
            for i in 0..<tensor.count { tensor.pointer[i] = values[i] }
        } else {
            philox.fillUniform(tensor.pointer, count: tensor.count, stream: 0)
            for i in 0..<tensor.count {
                let u = tensor.pointer[i]
                tensor.pointer[i] = (u < 0.5 ? -1 : 1) * (0.1 + 0.9 * abs(2 * u - 1))
            }
        }
        return tensor
    }

    static func expectAgreement(_ layer: any Layer, inputs: [Tensor], mode: Mode = .training, step: Float = 0.5,
                                tolerance: Double, sourceLocation: SourceLocation = #_sourceLocation) {
        let context = ForwardContext(mode: mode, seed: 7, epoch: 1, sampleIndices: Array(0..<inputs[0].shape[0]))
        let results = GradientCheck.check(layer: layer, inputs: inputs, context: context, step: step)
        for result in results {
            print("gradient check \(type(of: layer)) \(mode): \(result)")
            #expect(result.worstRelativeError < tolerance, "\(result)", sourceLocation: sourceLocation)
        }
    }

    @Test func dense() {
        Self.expectAgreement(Dense(7, 5), inputs: [Self.input([4, 7], seed: 1)], tolerance: 1e-3)
        Self.expectAgreement(Dense(7, 5, bias: false), inputs: [Self.input([3, 7], seed: 2)], tolerance: 1e-3)
    }

    @Test(arguments: [(3, 1, 0), (3, 1, 1), (3, 2, 1), (5, 1, 2), (1, 1, 0), (1, 2, 0), (7, 3, 3), (2, 2, 0)])
    func conv2d(kernel: Int, stride: Int, padding: Int) {
        let layer = Conv2D(3, 4, kernel: kernel, stride: stride, padding: padding)
        Self.expectAgreement(layer, inputs: [Self.input([2, 3, 9, 8], seed: 3)], tolerance: 1e-3)
    }

    /// 16 channels in and out: the sizes that Winograd's F(4x4, 3x3) computes, at padding 1 and 0 (whose input
    /// gradient is at padding 2), on outputs that leave part of a last 4x4 tile.
    @Test(arguments: [1, 0])
    func conv2dByWinograd(padding: Int) {
        let layer = Conv2D(16, 16, kernel: 3, padding: padding)
        Self.expectAgreement(layer, inputs: [Self.input([2, 16, 7, 6], seed: 8)], tolerance: 1e-3)
    }

    @Test func conv2dWithoutBias() {
        Self.expectAgreement(Conv2D(2, 3, kernel: 3, padding: 1, bias: false), inputs: [Self.input([2, 2, 5, 5], seed: 4)],
                             tolerance: 1e-3)
    }

    @Test(arguments: [(2, 2, 0), (3, 2, 1), (3, 1, 1)])
    func maxPool(kernel: Int, stride: Int, padding: Int) {
        // Distinct values keep the maximum of every window unique, so it does not switch under perturbation.
        Self.expectAgreement(MaxPool2D(kernel: kernel, stride: stride, padding: padding),
                             inputs: [Self.input([2, 3, 7, 6], seed: 5, distinct: true)], step: 1e-3, tolerance: 1e-3)
    }

    @Test(arguments: [(2, 2, 0), (3, 2, 1), (3, 1, 1)])
    func avgPool(kernel: Int, stride: Int, padding: Int) {
        Self.expectAgreement(AvgPool2D(kernel: kernel, stride: stride, padding: padding),
                             inputs: [Self.input([2, 3, 7, 6], seed: 6)], tolerance: 1e-3)
    }

    /// Overlapping windows (7 -> 3, 6 -> 5), repeated inputs (2 -> 5, 2 -> 3) and plain division (6 -> 3).
    @Test(arguments: [(3, 5), (6, 3)])
    func adaptiveAvgPool(outputHeight: Int, outputWidth: Int) {
        Self.expectAgreement(AdaptiveAvgPool2D(outputHeight: outputHeight, outputWidth: outputWidth),
                             inputs: [Self.input([2, 3, 7, 2], seed: 9)], tolerance: 1e-3)
        Self.expectAgreement(AdaptiveAvgPool2D(outputHeight: outputHeight, outputWidth: outputWidth),
                             inputs: [Self.input([1, 2, 6, 6], seed: 10)], tolerance: 1e-3)
    }

    @Test func globalAvgPoolAndFlatten() {
        Self.expectAgreement(GlobalAvgPool2D(), inputs: [Self.input([3, 4, 5, 5], seed: 7)], tolerance: 1e-3)
        Self.expectAgreement(Flatten(), inputs: [Self.input([3, 2, 3, 2], seed: 8)], tolerance: 1e-3)
    }

    @Test(arguments: Activation.Kind.allCases)
    func activation(kind: Activation.Kind) {
        Self.expectAgreement(Activation(kind), inputs: [Self.input([4, 3, 5], seed: 9)], step: 1e-2, tolerance: 1e-3)
    }

    @Test func dropout() {
        // The mask is keyed by (seed, epoch, layer, sample), so repeated forward passes see the same mask.
        Self.expectAgreement(Dropout(probability: 0.4), inputs: [Self.input([6, 20], seed: 10)], tolerance: 1e-3)
        Self.expectAgreement(Dropout(probability: 0.4), inputs: [Self.input([6, 20], seed: 10)], mode: .evaluation,
                             tolerance: 1e-3)
    }

    @Test func batchNormTrainingAndEvaluation() {
        Self.expectAgreement(BatchNorm(3), inputs: [Self.input([4, 3, 3, 3], seed: 11)], step: 1e-2, tolerance: 5e-3)
        Self.expectAgreement(BatchNorm(5), inputs: [Self.input([8, 5], seed: 12)], step: 1e-2, tolerance: 5e-3)
        Self.expectAgreement(BatchNorm(3), inputs: [Self.input([4, 3, 3, 3], seed: 13)], mode: .evaluation,
                             step: 1e-2, tolerance: 1e-3)
    }

    @Test func batchNormWithFusedReLUInEvaluation() {
        // Spatial 5x7 = 35 positions covers the 16-lane kernels and their tails. Training mode is checked as
        // bitwise equal to BatchNorm then ReLU, each checked here (FusedBatchNormTests): there one input moves
        // every output of its channel, and outputs crossing the kink within h = 1e-2 bend the loss too little for
        // the one-sided differences to flag them, while a smaller h drowns in the float loss's noise.
        Self.expectAgreement(BatchNorm(3, relu: true), inputs: [Self.input([4, 3, 5, 7], seed: 18)],
                             mode: .evaluation, step: 1e-2, tolerance: 1e-3)
    }

    @Test func residualAdditionAndZeroPaddingShortcut() {
        Self.expectAgreement(Add(), inputs: [Self.input([2, 3, 4], seed: 14), Self.input([2, 3, 4], seed: 15)],
                             tolerance: 1e-3)
        // With the ReLU fused, each output depends on its own two inputs only, so a sum near the kink is one the
        // one-sided differences see.
        Self.expectAgreement(Add(relu: true), inputs: [Self.input([2, 3, 4], seed: 19), Self.input([2, 3, 4], seed: 20)],
                             step: 1e-2, tolerance: 1e-3)
        Self.expectAgreement(ChannelPadShortcut(outChannels: 6, stride: 2), inputs: [Self.input([2, 2, 5, 4], seed: 16)],
                             tolerance: 1e-3)
        // 37 columns: the 16-wide gathers and spreads, and their tails.
        Self.expectAgreement(ChannelPadShortcut(outChannels: 4, stride: 2), inputs: [Self.input([1, 2, 3, 37], seed: 21)],
                             tolerance: 1e-3)
    }

    /// The shortcut's output against its definition: input (n, c, 2i, 2j) at (n, c + 1, i, j), zeros elsewhere.
    @Test func zeroPaddingShortcutSubsamples() {
        let (n, c, h, w) = (2, 2, 5, 37), (oh, ow) = (3, 19)
        let x = Self.input([n, c, h, w], seed: 22)
        let y = ChannelPadShortcut(outChannels: 4, stride: 2).forward(
            [x], context: ForwardContext(mode: .training, seed: 1, epoch: 0, sampleIndices: [0, 1]))
        #expect(y.shape == [n, 4, oh, ow])
        var expected = [Float](repeating: 0, count: n * 4 * oh * ow)
        for b in 0..<n { for ch in 0..<c { for i in 0..<oh { for j in 0..<ow {
            expected[((b * 4 + ch + 1) * oh + i) * ow + j] = x.pointer[((b * c + ch) * h + 2 * i) * w + 2 * j]
        } } } }
        #expect(Array(UnsafeBufferPointer(start: y.pointer, count: y.count)) == expected)
    }
}
