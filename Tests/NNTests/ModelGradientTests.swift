import Engine
import NN
import Testing

/// Gradients of whole graphs (residual branches, batch norm, dropout, pooling) through the loss, against
/// centred differences on the flat parameter buffer.
///
/// The graphs use smooth activations: in a deep ReLU network a weight's perturbation moves hundreds of units, some
/// across their kink, and the Float32 forward pass's noise grows as h shrinks, so no step size gives a tight check.
/// ReLU is checked layer by layer, and the zoo's ReLU networks against PyTorch.
@Suite struct ModelGradientTests {
    /// conv - bn - sigmoid - [conv - bn] + shortcut - tanh - avgpool - dropout - global pool - dense.
    static func residualGraph() -> Graph {
        let graph = Graph()
        var x = graph.add("conv1", Conv2D(2, 4, kernel: 3, padding: 1), graph.input)
        x = graph.add("bn1", BatchNorm(4), x)
        x = graph.add("act1", Activation(.sigmoid), x)
        var y = graph.add("block.conv", Conv2D(4, 4, kernel: 3, padding: 1, bias: false), x)
        y = graph.add("block.bn", BatchNorm(4), y)
        x = graph.add("block.add", Add(), y, x)
        x = graph.add("act2", Activation(.tanh), x)
        x = graph.add("pool", AvgPool2D(kernel: 2), x)
        x = graph.add("dropout", Dropout(probability: 0.25), x)
        x = graph.add("gap", GlobalAvgPool2D(), x)
        graph.add("fc", Dense(4, 3), x)
        return graph
    }

    func check(_ graph: Graph, inputShape: [Int], batch: Int, step: Float = 1e-2, tolerance: Double) throws {
        let model = try Model(graph: graph, inputShape: inputShape, seed: 11)
        let input = LayerGradientTests.input([batch] + inputShape, seed: 12)
        let labels = (0..<batch).map { $0 % model.outputShape[0] }
        let context = ForwardContext(mode: .training, seed: 3, epoch: 0, sampleIndices: Array(100..<(100 + batch)))
        for result in GradientCheck.check(model: model, input: input, labels: labels, context: context, step: step,
                                          maxElements: 40) {
            print("model gradient check \(result)")
            #expect(result.worstRelativeError < tolerance, "\(result)")
            #expect(result.skipped * 3 <= result.checked + result.skipped, "too many kinks: \(result)")
        }
    }

    @Test func residualNetworkWithBatchNormAndDropout() throws {
        try check(Self.residualGraph(), inputShape: [2, 6, 6], batch: 4, tolerance: 1e-2)
    }

    @Test func lenet5WithTanhAndAveragePooling() throws {
        try check(ModelZoo.lenet5(inputSize: 32, activation: .tanh, pooling: .average), inputShape: [1, 32, 32], batch: 2,
                  tolerance: 1e-2)
    }
}
