import NN

/// The `[model]` section: which architecture to train and its options.
///
/// Each case carries exactly the options that apply to it, so an option set for another architecture is an
/// error when the file is read rather than something silently ignored.
public enum ModelSettings: Sendable, Equatable {
    /// A multilayer perceptron (`hidden`, default [256, 128]; `activation`, default relu; `dropout` in [0, 1),
    /// default 0).
    case mlp(hidden: [Int], activation: Activation.Kind, dropout: Float)
    /// LeNet-5 for 28x28 or 32x32 images (`activation`, default tanh as LeCun et al.; `pooling`, default max).
    case lenet5(activation: Activation.Kind, pooling: ModelZoo.Pooling)
    /// He et al.'s CIFAR ResNet-20 (`shortcut`, default zero_padding).
    case resnet20(shortcut: ModelZoo.Shortcut)
    /// torchvision's ResNet-18.
    case resnet18
    /// torchvision's ResNet-50.
    case resnet50
    /// torchvision's AlexNet (`dropout` in [0, 1), default 0.5, before each hidden classifier layer).
    case alexnet(dropout: Float)
    /// torchvision's VGG-16 (`dropout` in [0, 1), default 0.5, after each hidden classifier layer).
    case vgg16(dropout: Float)
    /// A chain of layers given as `[[model.layers]]` tables.
    case layers([LayerSpec])

    /// The architectures `model.name` may name.
    public enum Name: String, Sendable, CaseIterable {
        case mlp, lenet5, resnet20, resnet18, resnet50, alexnet, vgg16, layers
    }

    /// The architecture's name as the config writes it.
    public var name: Name {
        switch self {
        case .mlp: return .mlp
        case .lenet5: return .lenet5
        case .resnet20: return .resnet20
        case .resnet18: return .resnet18
        case .resnet50: return .resnet50
        case .alexnet: return .alexnet
        case .vgg16: return .vgg16
        case .layers: return .layers
        }
    }

    /// The model's graph for samples of `inputShape` ([C, H, W] or [features]) and `classes` output scores.
    ///
    /// Throws when the architecture cannot take the data: LeNet-5 needs 28x28 or 32x32 images, the ResNets
    /// need images large enough for their downsampling, and every model must end in one score per class.
    public func makeGraph(inputShape: [Int], classes: Int) throws(ConfigError) -> Graph {
        func reject(_ reason: String) -> ConfigError {
            .modelInput(model: name.rawValue, inputShape: inputShape, reason: reason)
        }
        guard classes >= 1 else { throw reject("the data has \(classes) classes, at least 1 is needed") }
        guard !inputShape.isEmpty, inputShape.allSatisfy({ $0 >= 1 }) else {
            throw reject("every dimension of a sample must be at least 1")
        }
        let isImage = inputShape.count == 3
        let graph: Graph
        switch self {
        case .mlp(let hidden, let activation, let dropout):
            graph = ModelZoo.mlp(inputShape: inputShape, hiddenSizes: hidden, classes: classes, activation: activation,
                                 dropout: dropout)
        case .lenet5(let activation, let pooling):
            guard isImage, inputShape[1] == inputShape[2], [28, 32].contains(inputShape[1]) else {
                throw reject("LeNet-5 takes [C, 28, 28] or [C, 32, 32] images")
            }
            graph = ModelZoo.lenet5(inputSize: inputShape[1], channels: inputShape[0], classes: classes,
                                    activation: activation, pooling: pooling)
        case .resnet20(let shortcut):
            guard isImage else { throw reject("ResNet-20 takes [C, H, W] images") }
            graph = ModelZoo.resnet20(classes: classes, channels: inputShape[0], shortcut: shortcut)
        case .resnet18:
            guard isImage else { throw reject("ResNet-18 takes [C, H, W] images") }
            graph = ModelZoo.resnet18(classes: classes, channels: inputShape[0])
        case .resnet50:
            guard isImage else { throw reject("ResNet-50 takes [C, H, W] images") }
            graph = ModelZoo.resnet50(classes: classes, channels: inputShape[0])
        case .alexnet(let dropout):
            guard isImage else { throw reject("AlexNet takes [C, H, W] images") }
            graph = ModelZoo.alexnet(classes: classes, channels: inputShape[0], dropout: dropout)
        case .vgg16(let dropout):
            guard isImage else { throw reject("VGG-16 takes [C, H, W] images") }
            graph = ModelZoo.vgg16(classes: classes, channels: inputShape[0], dropout: dropout)
        case .layers(let specs):
            do {
                graph = try ModelZoo.sequential(specs, inputShape: inputShape)
            } catch {
                throw reject(error.description)
            }
        }
        let output: [Int]
        do {
            output = try Self.outputShape(of: graph, inputShape: inputShape)
        } catch {
            throw reject(error.description)
        }
        guard output == [classes] else {
            throw reject("the model's output has shape \(output), expected [\(classes)] (one score per class)")
        }
        return graph
    }

    /// The shape of one sample's output, found by asking each layer for its output shape in graph order.
    ///
    /// This checks a graph without allocating its parameters, which for ResNet-50 would be 100 MB.
    private static func outputShape(of graph: Graph, inputShape: [Int]) throws(ShapeError) -> [Int] {
        var shapes: [[Int]] = []
        for entry in graph.entries {
            let inputs = entry.inputs.map { $0.index < 0 ? [1] + inputShape : shapes[$0.index] }
            do {
                shapes.append(try entry.layer.outputShape(for: inputs))
            } catch {
                throw ShapeError("\(entry.name): \(error.description)")
            }
        }
        guard let last = shapes.last else { throw ShapeError("the model has no layers") }
        return Array(last.dropFirst())
    }

    // `init` (a model file to start from) and `sync_bn` apply to every architecture; TrainingConfig reads them.
    static let keys = ["name", "init", "sync_bn", "hidden", "activation", "pooling", "dropout", "shortcut", "layers"]

    init(from section: SectionReader) throws(ConfigError) {
        var section = section
        guard let name = try section.choice("name", of: Name.self) else {
            throw section.missing("name", expected: "one of \(Name.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        switch name {
        case .mlp:
            self = .mlp(hidden: try section.integers("hidden", atLeast: 1) ?? [256, 128],
                        activation: try section.choice("activation", of: Activation.Kind.self) ?? .relu,
                        dropout: try section.float("dropout", .fraction) ?? 0)
        case .lenet5:
            self = .lenet5(activation: try section.choice("activation", of: Activation.Kind.self) ?? .tanh,
                           pooling: try section.choice("pooling", of: ModelZoo.Pooling.self) ?? .max)
        case .resnet20:
            self = .resnet20(shortcut: try section.choice("shortcut", of: ModelZoo.Shortcut.self) ?? .zeroPadding)
        case .resnet18:
            self = .resnet18
        case .resnet50:
            self = .resnet50
        case .alexnet:
            self = .alexnet(dropout: try section.float("dropout", .fraction) ?? 0.5)
        case .vgg16:
            self = .vgg16(dropout: try section.float("dropout", .fraction) ?? 0.5)
        case .layers:
            guard let tables = try section.tables("layers", knownKeys: LayerTable.keys), !tables.isEmpty else {
                throw section.missing("layers", expected: "at least one [[model.layers]] table")
            }
            var specs: [LayerSpec] = []
            for table in tables { specs.append(try LayerTable.spec(from: table)) }
            self = .layers(specs)
        }
        try section.finish(context: "model \(name.rawValue)")
    }

    func write(to writer: inout TOMLWriter, initialization: String?, syncBatchNorm: Bool) {
        writer.section("model")
        writer.set("name", name.rawValue)
        writer.set("init", initialization)
        writer.set("sync_bn", syncBatchNorm)
        switch self {
        case .mlp(let hidden, let activation, let dropout):
            writer.set("hidden", hidden)
            writer.set("activation", activation.rawValue)
            writer.set("dropout", dropout)
        case .lenet5(let activation, let pooling):
            writer.set("activation", activation.rawValue)
            writer.set("pooling", pooling.rawValue)
        case .resnet20(let shortcut):
            writer.set("shortcut", shortcut.rawValue)
        case .resnet18, .resnet50:
            break
        case .alexnet(let dropout), .vgg16(let dropout):
            writer.set("dropout", dropout)
        case .layers(let specs):
            for spec in specs { LayerTable.write(spec, to: &writer) }
        }
    }
}
