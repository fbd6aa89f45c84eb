import Engine
import Foundation
import NN

// Training throughput of the engine on one process: forward, backward and an SGD-momentum update per step.
//
//   dtrain-benchmark [--threads N] [--steps N] [--json] [--profile] [--model lenet5|resnet20|resnet18|resnet50]...
//
// Achieved GFLOP/s counts the multiply-adds of a direct convolution and of the dense layers (2 FLOPs each) and
// takes a training step as three forward passes (forward, input gradient, weight gradient), the usual convention.
// It is compared with the FP32 peak of this CPU measured by an FMA loop on the same number of threads (before and
// after each model, the best so far), and with OpenBLAS's sgemm on a 1024^3 product. `--json` prints one JSON object
// per model instead of the table; `--profile` adds each model's time per layer.
// OpenBLAS's kernels are the fastest family for this CPU (`BLASKernelChoice`) unless OPENBLAS_CORETYPE is set.

BLASKernelChoice.applyFastest()

var threads = 1, steps = 10, json = false, profile = false
var models: [String] = []
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--threads": threads = Int(arguments.next() ?? "") ?? threads
    case "--steps": steps = Int(arguments.next() ?? "") ?? steps
    case "--json": json = true
    case "--profile": profile = true
    case "--model": models.append(arguments.next() ?? "")
    default:
        FileHandle.standardError.write(
            "usage: dtrain-benchmark [--threads N] [--steps N] [--json] [--profile] [--model NAME]...\n".data(using: .utf8)!)
        exit(2)
    }
}
if models.isEmpty { models = ["lenet5", "resnet20", "resnet50"] }
for name in models where Workload(name) == nil {
    FileHandle.standardError.write(
        "dtrain-benchmark: unknown model \(name) (lenet5, resnet20, resnet18, resnet50)\n".data(using: .utf8)!)
    exit(2)
}

BLAS.setThreads(threads)
// The peak is measured again after each model and the best figure so far divides: a machine shared with other work
// (a virtual machine's neighbours) can be slowed for the fraction of a second the FMA loop runs.
var peak = PeakFLOPs.measure(threads: threads)
let sgemm = Workload.measureGEMM(m: 1024, n: 1024, k: 1024)
let im2colShaped = Workload.measureGEMM(m: 64, n: 3136, k: 576)
if !json {
    print("OpenBLAS: \(BLAS.configuration), \(BLAS.threads) thread(s)")
    print(String(format: "FP32 peak (FMA loop, %d thread%@) %6.1f GFLOP/s", threads, threads == 1 ? "" : "s", peak))
    print(String(format: "sgemm 1024x1024x1024  %6.1f GFLOP/s  (%4.1f%% of peak)", sgemm, 100 * sgemm / peak))
    print(String(format: "sgemm 64x3136x576     %6.1f GFLOP/s  (%4.1f%% of peak)", im2colShaped,
                 100 * im2colShaped / peak))
}
// The models train on the engine's threads (OpenBLAS then runs on one, beside them).
try ComputeThreads.with(threads: threads) {
    for name in models {
        // Built here and released after its measurement: a model's layers hold its activations, so the next model's
        // peak memory is its own.
        let work = Workload(name)!
        let timedSteps = work.name == "resnet50" || work.name == "resnet18" ? max(2, steps / 3) : steps
        let result = try work.measure(steps: timedSteps, profile: profile)
        peak = max(peak, PeakFLOPs.measure(threads: threads))
        let gflops = result.flopsPerImage * result.imagesPerSecond / 1e9
        if json {
            let fields: [(String, String)] = [
                ("model", "\"\(work.name)\""), ("batch", "\(work.batch)"), ("threads", "\(threads)"),
                ("images_per_second", String(format: "%.2f", result.imagesPerSecond)),
                ("ms_per_step", String(format: "%.3f", 1000 * result.secondsPerStep)),
                ("cpu_ms_per_step", String(format: "%.3f", 1000 * result.cpuSecondsPerStep)),
                ("gflops", String(format: "%.2f", gflops)), ("peak_gflops", String(format: "%.2f", peak)),
                ("sgemm_gflops", String(format: "%.2f", sgemm)),
                ("peak_rss_mb", String(format: "%.1f", result.peakMegabytes)),
                ("allocations_per_step", String(format: "%.2f", result.allocationsPerStep)),
            ]
            print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
        } else {
            print(String(format: "%-9@ batch %3d  %8.1f img/s  %8.1f ms/step (CPU %8.1f ms)  %6.1f GFLOP/s  "
                            + "%5.1f%% of peak (%.0f)  %5.1f%% of sgemm  peak RSS %7.1f MB  %.1f allocations/step",
                         work.name, work.batch, result.imagesPerSecond, 1000 * result.secondsPerStep,
                         1000 * result.cpuSecondsPerStep, gflops,
                         100 * gflops / peak, peak, 100 * gflops / sgemm, result.peakMegabytes,
                         result.allocationsPerStep))
            if let layers = result.profile {
                print(layers.table(stepSeconds: result.secondsPerStep, extra: []))
            }
        }
    }
}
