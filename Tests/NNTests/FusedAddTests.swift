import Engine
import NN
import Testing

/// The residual sum with its ReLU fused against Add then Activation(.relu): the same output and input gradients.
@Suite struct FusedAddTests {
    @Test func matchesAddThenReLU() {
        let shape = [3, 4, 5, 7]
        let a = Tensor(zeros: shape), b = Tensor(zeros: shape), dy = Tensor(zeros: shape)
        Philox(seed: 31).fillNormal(a.pointer, count: a.count, stream: 0)
        Philox(seed: 31).fillNormal(b.pointer, count: b.count, stream: 1)
        Philox(seed: 31).fillNormal(dy.pointer, count: dy.count, stream: 2)
        let context = ForwardContext.training(batchSize: shape[0])
        let fused = Add(relu: true), plain = Add(), relu = Activation(.relu)
        let fusedOutput = fused.forward([a, b], context: context)
        let plainOutput = relu.forward([plain.forward([a, b], context: context)], context: context)
        #expect(fusedOutput.scalars == plainOutput.scalars, "output")
        let fusedGradients = fused.backward(dy, needsInputGradient: true)
        let plainGradients = plain.backward(relu.backward(dy, needsInputGradient: true)[0], needsInputGradient: true)
        #expect(fusedGradients.count == 2 && plainGradients.count == 2)
        for (f, p) in zip(fusedGradients, plainGradients) {
            #expect(f.scalars == p.scalars, "input gradient")
        }
    }
}

/// A ResNet block's output read by the next block's convolution and its shortcut: the model sums the two gradients
/// and masks them by the fused ReLU in one pass. The same network with each sum's inputs swapped is not fused (its
/// first input is not a batch norm), so its sums run as layers of their own; outputs and every parameter gradient
/// must agree to the bit.
@Suite struct FusedResidualGradientTests {
    static func network(fused: Bool) -> Graph {
        let graph = Graph()
        var x = graph.add("conv", Conv2D(3, 8, kernel: 3, padding: 1, bias: false), graph.input)
        x = graph.add("bn", BatchNorm(8, relu: true), x)
        for block in 1...2 {
            var y = graph.add("block\(block).conv1", Conv2D(8, 8, kernel: 3, padding: 1, bias: false), x)
            y = graph.add("block\(block).bn1", BatchNorm(8, relu: true), y)
            y = graph.add("block\(block).conv2", Conv2D(8, 8, kernel: 3, padding: 1, bias: false), y)
            y = graph.add("block\(block).bn2", BatchNorm(8), y)
            x = fused ? graph.add("block\(block).add", Add(relu: true), y, x)
                : graph.add("block\(block).add", Add(relu: true), x, y)
        }
        x = graph.add("gap", GlobalAvgPool2D(), x)
        graph.add("fc", Dense(8, 5), x)
        return graph
    }

    @Test func branchPointSumMaskedOnArrivalMatchesUnfusedSums() throws {
        let batch = 4, inputShape = [3, 8, 8]
        let fused = try Model(graph: Self.network(fused: true), inputShape: inputShape, seed: 5)
        let plain = try Model(graph: Self.network(fused: false), inputShape: inputShape, seed: 5)
        #expect(fused.fusedEntries.count == 2 && plain.fusedEntries.isEmpty, "which sums are fused")
        let input = Tensor(zeros: [batch] + inputShape), dy = Tensor(zeros: [batch, 5])
        Philox(seed: 7).fillNormal(input.pointer, count: input.count, stream: 0)
        Philox(seed: 7).fillNormal(dy.pointer, count: dy.count, stream: 1)
        let context = ForwardContext.training(batchSize: batch)
        var outputs: [[Float]] = []
        for model in [fused, plain] {
            model.zeroGradients()
            outputs.append(model.forward(input, context: context).scalars)
            model.backward(dy)
        }
        let gradients = (fused.gradients.scalars, plain.gradients.scalars)
        let differing = zip(gradients.0, gradients.1).count { $0 != $1 }
        #expect(outputs[0] == outputs[1], "output")
        #expect(differing == 0, "\(differing) of \(gradients.0.count) parameter gradients differ")
        #expect(gradients.0.contains { $0 != 0 }, "gradients flow")
    }
}
