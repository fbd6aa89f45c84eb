import Engine
import NN
import Testing

@Suite struct ModelZooTests {
    @Test func lenet5HasTheOriginalParameterCount() throws {
        for inputSize in [32, 28] {
            let model = try Model(graph: ModelZoo.lenet5(inputSize: inputSize), inputShape: [1, inputSize, inputSize], seed: 1)
            #expect(model.parameterCount == 61_706)
            #expect(model.parameterSegments.map(\.count) == [150, 6, 2400, 16, 48000, 120, 10080, 84, 840, 10])
            #expect(model.outputShape == [10])
        }
    }

    @Test func resnet18MatchesTorchvision() throws {
        let model = try Model(graph: ModelZoo.resnet18(), inputShape: [3, 224, 224], seed: 1)
        #expect(model.parameterCount == 11_689_512)
        #expect(model.parameterSegments.first?.name == "conv1.weight")
        #expect(model.parameterSegments.last?.name == "fc.bias")
        #expect(model.parameter(named: "layer2.0.downsample.0.weight")?.shape == [128, 64, 1, 1])
        #expect(model.buffer(named: "layer1.0.bn1.running_mean")?.shape == [64])
        #expect(model.buffer(named: "bn1.num_batches_tracked")?.count == 1)
        #expect(model.parameterSegments.count == 62)
    }

    @Test func resnet50MatchesTorchvision() throws {
        let model = try Model(graph: ModelZoo.resnet50(), inputShape: [3, 224, 224], seed: 1)
        #expect(model.parameterCount == 25_557_032)
        #expect(model.parameter(named: "layer4.2.conv3.weight")?.shape == [2048, 512, 1, 1])
        #expect(model.parameter(named: "fc.weight")?.shape == [1000, 2048])
        #expect(model.parameterSegments.count == 161)
        #expect(model.bufferSegments.count == 53 * 3)
    }

    @Test func alexnetMatchesTorchvision() throws {
        let model = try Model(graph: ModelZoo.alexnet(), inputShape: [3, 224, 224], seed: 1)
        #expect(model.parameterCount == 61_100_840)
        let layers = [0, 3, 6, 8, 10].map { "features.\($0)" } + [1, 4, 6].map { "classifier.\($0)" }
        let names: [String] = layers.flatMap { [$0 + ".weight", $0 + ".bias"] }
        #expect(model.parameterSegments.map(\.name) == names)
        #expect(model.parameter(named: "classifier.1.weight")?.shape == [4096, 9216])
        #expect(model.outputShape == [1000])
    }

    @Test func vgg16MatchesTorchvision() throws {
        let model = try Model(graph: ModelZoo.vgg16(), inputShape: [3, 224, 224], seed: 1)
        #expect(model.parameterCount == 138_357_544)
        #expect(model.parameterSegments.count == 32)
        #expect(model.parameter(named: "features.28.weight")?.shape == [512, 512, 3, 3])
        #expect(model.parameter(named: "classifier.0.weight")?.shape == [4096, 25088])
        #expect(model.parameter(named: "classifier.6.bias")?.shape == [1000])
        // torchvision's initialisation: He normal with fan-out, linear layers N(0, 0.01), zero biases.
        let values = model.parameter(named: "features.21.weight")!.scalars.map(Double.init)
        let std = (values.map { $0 * $0 }.reduce(0, +) / Double(values.count)).squareRoot()
        #expect(abs(std / (2.0 / Double(512 * 9)).squareRoot() - 1) < 0.02)
        #expect(model.parameter(named: "classifier.3.bias")!.scalars.allSatisfy { $0 == 0 })
    }

    @Test func resnet20ParameterCountsForBothShortcuts() throws {
        let zeroPadding = try Model(graph: ModelZoo.resnet20(shortcut: .zeroPadding), inputShape: [3, 32, 32], seed: 1)
        let projection = try Model(graph: ModelZoo.resnet20(shortcut: .projection), inputShape: [3, 32, 32], seed: 1)
        #expect(zeroPadding.parameterCount == 269_722)
        #expect(projection.parameterCount == 272_474)
    }

    /// The seed's shapes: a 100x3x256x256 batch through Conv(3,16,7), Conv(16,32,3,pad 1,stride 2), Conv(32,64,3,pad 1),
    /// Conv(64,64,1), with 2,368 / 4,640 / 18,496 / 4,160 parameters.
    @Test func convolutionChainShapesAndParameters() throws {
        let layers: [LayerSpec] = [
            .conv2d(outChannels: 16, kernel: 7), .conv2d(outChannels: 32, kernel: 3, stride: 2, padding: 1),
            .conv2d(outChannels: 64, kernel: 3, padding: 1), .conv2d(outChannels: 64, kernel: 1),
        ]
        let graph = try ModelZoo.sequential(layers, inputShape: [3, 256, 256])
        let shapes = try graph.entries.reduce(into: [[100, 3, 256, 256]]) { shapes, entry in
            shapes.append(try entry.layer.outputShape(for: [shapes.last!]))
        }
        #expect(shapes.dropFirst().map { $0 } == [[100, 16, 250, 250], [100, 32, 125, 125], [100, 64, 125, 125], [100, 64, 125, 125]])
        let counts = graph.entries.map { $0.layer.parameterSpecs.map { $0.shape.reduce(1, *) }.reduce(0, +) }
        #expect(counts == [2_368, 4_640, 18_496, 4_160])
    }

    @Test func modelFromDataNamesLayersLikeSequential() throws {
        let layers: [LayerSpec] = [.flatten, .dense(outFeatures: 32), .activation(.relu), .dropout(probability: 0.1),
                                   .dense(outFeatures: 10)]
        let model = try Model(graph: ModelZoo.sequential(layers, inputShape: [1, 8, 8]), inputShape: [1, 8, 8], seed: 3)
        #expect(model.parameterSegments.map(\.name) == ["layers.1.weight", "layers.1.bias", "layers.4.weight", "layers.4.bias"])
        #expect(model.parameterCount == 64 * 32 + 32 + 32 * 10 + 10)
    }

    @Test func badShapesAreReportedWithTheLayer() {
        #expect(throws: ShapeError.self) { try ModelZoo.sequential([.dense(outFeatures: 3)], inputShape: [1, 4, 4]) }
        #expect(throws: ShapeError.self) { try Model(graph: ModelZoo.lenet5(inputSize: 32), inputShape: [1, 20, 20], seed: 1) }
        do {
            _ = try Model(graph: ModelZoo.lenet5(inputSize: 32), inputShape: [3, 32, 32], seed: 1)
            Issue.record("a 3-channel input to a 1-channel LeNet was accepted")
        } catch {
            #expect(error.description.contains("conv1"))
        }
    }

    @Test func sameSeedSameParametersOtherSeedOtherParameters() throws {
        let a = try Model(graph: ModelZoo.resnet20(), inputShape: [3, 32, 32], seed: 5)
        let b = try Model(graph: ModelZoo.resnet20(), inputShape: [3, 32, 32], seed: 5)
        let c = try Model(graph: ModelZoo.resnet20(), inputShape: [3, 32, 32], seed: 6)
        #expect(a.parameters.scalars == b.parameters.scalars)
        #expect(a.parameters.scalars != c.parameters.scalars)
    }

    /// torchvision's initialisation: convolutions He normal with fan-out, batch norm weight 1 and bias 0.
    @Test func resnetInitialisationFollowsTorchvision() throws {
        let model = try Model(graph: ModelZoo.resnet18(), inputShape: [3, 224, 224], seed: 1)
        let weight = model.parameter(named: "layer3.0.conv2.weight")!
        let values = weight.scalars.map(Double.init)
        let std = (values.map { $0 * $0 }.reduce(0, +) / Double(values.count)).squareRoot()
        let expected = (2.0 / Double(256 * 9)).squareRoot()
        #expect(abs(std / expected - 1) < 0.02)
        #expect(model.parameter(named: "layer3.0.bn2.weight")!.scalars.allSatisfy { $0 == 1 })
        #expect(model.parameter(named: "layer3.0.bn2.bias")!.scalars.allSatisfy { $0 == 0 })
        #expect(model.buffer(named: "layer3.0.bn2.running_var")!.scalars.allSatisfy { $0 == 1 })
    }
}
