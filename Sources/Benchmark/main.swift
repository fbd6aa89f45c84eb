import Engine
import Foundation
import NN

// Training throughput of the engine on one process: forward, backward and an SGD-momentum update per step.
//
//   dtrain-benchmark [--threads N] [--steps N] [--model lenet5|resnet50|resnet20|resnet18]...
//
// Achieved GFLOP/s counts the multiply-adds of convolutions and dense layers (2 FLOPs each) and takes a training
// step as three forward passes (forward, input gradient, weight gradient), the usual convention. It is compared
// with the CPU's FP32 peak and with what OpenBLAS's sgemm reaches on a 1024^3 product on the same threads.

/// FP32 peak of one core of the reference machine (AMD Zen 5, ~4.1 GHz, two 512-bit FMA pipes).
let peakPerCore = 262.0

struct Workload {
    let name: String
    let graph: Graph
    let inputShape: [Int]
    let batch: Int
}

func workload(_ name: String) -> Workload? {
    switch name {
    case "lenet5": Workload(name: name, graph: ModelZoo.lenet5(inputSize: 28, activation: .relu), inputShape: [1, 28, 28], batch: 64)
    case "resnet20": Workload(name: name, graph: ModelZoo.resnet20(), inputShape: [3, 32, 32], batch: 64)
    case "resnet18": Workload(name: name, graph: ModelZoo.resnet18(), inputShape: [3, 224, 224], batch: 16)
    case "resnet50": Workload(name: name, graph: ModelZoo.resnet50(), inputShape: [3, 224, 224], batch: 16)
    default: nil
    }
}

/// Multiply-add FLOPs of one sample's forward pass through the convolutions and dense layers.
func forwardFLOPs(_ graph: Graph, inputShape: [Int]) throws -> Double {
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

func measure(_ work: Workload, steps: Int, threads: Int, ceiling: Double) throws {
    let model = try Model(graph: work.graph, inputShape: work.inputShape, seed: 1)
    let optimizer = SGD(segments: model.parameterSegments, momentum: 0.9, weightDecay: 1e-4)
    let input = Tensor(zeros: [work.batch] + work.inputShape)
    Philox(seed: 2).fillNormal(input.pointer, count: input.count, stream: 0)
    let labels = (0..<work.batch).map { $0 % model.outputShape[0] }
    let gradient = Tensor(zeros: [work.batch] + model.outputShape)
    let context = ForwardContext.training(batchSize: work.batch)

    func step() {
        model.zeroGradients()
        let logits = model.forward(input, context: context)
        _ = SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels, normalizer: work.batch, gradient: gradient)
        model.backward(gradient)
        optimizer.step(parameters: model.parameters, gradients: model.gradients, learningRate: 0.01)
    }
    step()  // warm-up: allocations, page faults, OpenBLAS buffers
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<steps { step() }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9

    let imagesPerSecond = Double(steps * work.batch) / seconds
    let gflops = 3 * (try forwardFLOPs(work.graph, inputShape: work.inputShape)) * imagesPerSecond / 1e9
    let peak = peakPerCore * Double(threads)
    print(String(format: "%-9@ batch %3d  %8.1f img/s  %7.1f ms/step  %6.1f GFLOP/s  %5.1f%% of %.0f GFLOP/s peak  %5.1f%% of sgemm (%d thread%@)",
                 work.name, work.batch, imagesPerSecond, 1000 * seconds / Double(steps), gflops, 100 * gflops / peak, peak,
                 100 * gflops / ceiling, threads, threads == 1 ? "" : "s"))
}

/// The ceiling the convolutions run against: OpenBLAS sgemm on a square and an im2col-shaped product.
@discardableResult
func measureGEMM(m: Int, n: Int, k: Int) -> Double {
    let a = Tensor(zeros: [m, k]), b = Tensor(zeros: [k, n]), c = Tensor(zeros: [m, n])
    Philox(seed: 3).fillUniform(a.pointer, count: a.count, stream: 0)
    Philox(seed: 3).fillUniform(b.pointer, count: b.count, stream: 1)
    gemm(.none, .none, m: m, n: n, k: k, a: a.pointer, b: b.pointer, c: c.pointer)
    let repeats = max(3, Int(2e10 / Double(2 * m * n * k)))
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<repeats { gemm(.none, .none, m: m, n: n, k: k, a: a.pointer, b: b.pointer, c: c.pointer) }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let gflops = 2 * Double(m * n * k) * Double(repeats) / seconds / 1e9
    print(String(format: "sgemm %dx%dx%d  %6.1f GFLOP/s", m, n, k, gflops))
    return gflops
}

var threads = 1, steps = 10
var models: [String] = []
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--threads": threads = Int(arguments.next() ?? "") ?? threads
    case "--steps": steps = Int(arguments.next() ?? "") ?? steps
    case "--model": models.append(arguments.next() ?? "")
    default:
        FileHandle.standardError.write("usage: dtrain-benchmark [--threads N] [--steps N] [--model NAME]...\n".data(using: .utf8)!)
        exit(2)
    }
}
if models.isEmpty { models = ["lenet5", "resnet50"] }
BLAS.setThreads(threads)
print("OpenBLAS: \(BLAS.configuration), \(BLAS.threads) thread(s)")
let ceiling = measureGEMM(m: 1024, n: 1024, k: 1024)
measureGEMM(m: 64, n: 3136, k: 576)
for name in models {
    guard let work = workload(name) else {
        FileHandle.standardError.write("dtrain-benchmark: unknown model \(name) (lenet5, resnet20, resnet18, resnet50)\n".data(using: .utf8)!)
        exit(2)
    }
    try measure(work, steps: name == "resnet50" || name == "resnet18" ? max(2, steps / 3) : steps, threads: threads,
                ceiling: ceiling)
}
