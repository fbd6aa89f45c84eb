import Foundation
import NN
import Trainer

// dtrain-checkpoint-writer DIRECTORY: writes checkpoints of a ResNet-20 with momentum into DIRECTORY, one after the
// other with keep 3, until it is killed. The kill tests signal it at random moments and then verify what it left.
guard CommandLine.arguments.count == 2 else {
    FileHandle.standardError.write("usage: dtrain-checkpoint-writer DIRECTORY\n".data(using: .utf8)!)
    exit(2)
}
let directory = CommandLine.arguments[1]
let model = try Model(graph: ModelZoo.resnet20(), inputShape: [3, 32, 32], seed: 7)
var momentum = [Float](repeating: 0.25, count: model.parameterCount)
// Continue after the checkpoints a killed predecessor left, so that each run adds new files.
var step = (CheckpointFile.newestValid(in: directory) { _ in }?.state.step ?? 0) + 1
// Unbuffered, so that the test sees it at once.
FileHandle.standardOutput.write("writing \(step)\n".data(using: .utf8)!)
while true {
    // Each checkpoint differs from the last, so a file mixing two writes would fail its checksum.
    model.parameters.pointer[step % model.parameterCount] += 1
    momentum[step % momentum.count] = Float(step)
    let state = CheckpointState(step: step, epoch: step / 10, stepInEpoch: step % 10, seed: 7, worldSize: 1,
                                globalBatch: 32, configText: "[run]\nseed = 7\n", metrics: ["loss": 1 / Double(step)])
    _ = try CheckpointFile.write(model: model, optimizer: OptimizerState(step: step, buffers: ["momentum_buffer": momentum]),
                                 state: state, directory: directory, keep: 3)
    step += 1
}
