import Engine
import Foundation
import NN

/// A model, its input and batch, as the benchmark trains it.
struct Workload {
    let name: String
    let graph: Graph
    let inputShape: [Int]
    let batch: Int

    /// The benchmark's models by name: LeNet-5 (28x28, ReLU), the CIFAR ResNet-20, ResNet-18 and ResNet-50.
    init?(_ name: String) {
        self.name = name
        switch name {
        case "lenet5": (graph, inputShape, batch) = (ModelZoo.lenet5(inputSize: 28, activation: .relu), [1, 28, 28], 64)
        case "resnet20": (graph, inputShape, batch) = (ModelZoo.resnet20(), [3, 32, 32], 64)
        case "resnet18": (graph, inputShape, batch) = (ModelZoo.resnet18(), [3, 224, 224], 16)
        case "resnet50": (graph, inputShape, batch) = (ModelZoo.resnet50(), [3, 224, 224], 16)
        default: return nil
        }
    }

    /// What one measurement found.
    struct Result {
        let imagesPerSecond: Double
        let secondsPerStep: Double
        /// CPU time of the process (every thread) per step: on a machine shared with other work, the figure that
        /// the others' load does not inflate.
        let cpuSecondsPerStep: Double
        /// Each layer's time, when asked for.
        let profile: LayerProfile?
        /// Direct-convolution and dense FLOPs of one image's training step (three forward passes).
        let flopsPerImage: Double
        /// The process's peak resident memory while the model was built and trained.
        let peakMegabytes: Double
        /// Tensor and workspace buffers allocated per timed step (0 in the steady state).
        let allocationsPerStep: Double
    }

    /// Multiply-add FLOPs of one sample's forward pass through the convolutions and dense layers.
    func forwardFLOPs() throws -> Double {
        var shapes: [[Int]] = []
        var flops = 0.0
        for entry in graph.entries {
            let inputs = entry.inputs.map { $0.index < 0 ? [1] + inputShape : shapes[$0.index] }
            let output = try entry.layer.outputShape(for: inputs)
            shapes.append(output)
            if let conv = entry.layer as? Conv2D {
                let window = conv.geometry.kernelHeight * conv.geometry.kernelWidth
                flops += 2 * Double(conv.inChannels * window) * Double(output.dropFirst().reduce(1, *))
            } else if let dense = entry.layer as? Dense {
                flops += 2 * Double(dense.inFeatures * dense.outFeatures)
            }
        }
        return flops
    }

    /// Builds the model and times `steps` training steps after two warm-up steps.
    func measure(steps: Int, profile: Bool = false) throws -> Result {
        MemoryUsage.resetPeak()
        let model = try Model(graph: graph, inputShape: inputShape, seed: 1)
        let optimizer = SGD(segments: model.parameterSegments, momentum: 0.9, weightDecay: 1e-4)
        let input = Tensor(zeros: [batch] + inputShape)
        Philox(seed: 2).fillNormal(input.pointer, count: input.count, stream: 0)
        let labels = (0..<batch).map { $0 % model.outputShape[0] }
        let gradient = Tensor(zeros: [batch] + model.outputShape)
        let context = ForwardContext.training(batchSize: batch)

        func step() {
            model.zeroGradients()
            let logits = model.forward(input, context: context)
            _ = SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels, normalizer: batch, gradient: gradient)
            model.backward(gradient)
            let start = DispatchTime.now().uptimeNanoseconds
            optimizer.step(parameters: model.parameters, gradients: model.gradients, learningRate: 0.01)
            model.profile?.addUpdate(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        step()  // warm-up: buffers, page faults, OpenBLAS's own buffers
        step()
        if profile { model.profile = LayerProfile(model: model) }
        let allocationsBefore = TensorStorage.allocationCount
        let start = DispatchTime.now().uptimeNanoseconds, cpuStart = CPUTime.processSeconds
        for _ in 0..<steps { step() }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let cpuSeconds = CPUTime.processSeconds - cpuStart
        let allocations = TensorStorage.allocationCount - allocationsBefore
        return Result(imagesPerSecond: Double(steps * batch) / seconds, secondsPerStep: seconds / Double(steps),
                      cpuSecondsPerStep: cpuSeconds / Double(steps),
                      profile: model.profile,
                      flopsPerImage: 3 * (try forwardFLOPs()), peakMegabytes: MemoryUsage.peakMegabytes,
                      allocationsPerStep: Double(allocations) / Double(steps))
    }

    /// OpenBLAS sgemm GFLOP/s on an m x k by k x n product, the ceiling the convolutions' GEMMs run against.
    static func measureGEMM(m: Int, n: Int, k: Int) -> Double {
        let a = Tensor(zeros: [m, k]), b = Tensor(zeros: [k, n]), c = Tensor(zeros: [m, n])
        Philox(seed: 3).fillUniform(a.pointer, count: a.count, stream: 0)
        Philox(seed: 3).fillUniform(b.pointer, count: b.count, stream: 1)
        gemm(.none, .none, m: m, n: n, k: k, a: a.pointer, b: b.pointer, c: c.pointer)
        let repeats = max(3, Int(2e10 / Double(2 * m * n * k)))
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<repeats { gemm(.none, .none, m: m, n: n, k: k, a: a.pointer, b: b.pointer, c: c.pointer) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return 2 * Double(m * n * k) * Double(repeats) / seconds / 1e9
    }
}
