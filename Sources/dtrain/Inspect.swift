import ArgumentParser
import Foundation
import Trainer

/// `dtrain inspect CHECKPOINT`: verifies a checkpoint and prints what it holds.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify a checkpoint and print its step, tensors, optimizer state, metrics and config.",
        discussion: "Exit status: 0 the checkpoint verifies, 2 it does not (one line on stderr says why).")

    @Argument(help: "The checkpoint file (ckpt-<step>.h5).")
    var checkpoint: String

    func run() throws {
        let loaded: Checkpoint
        do {
            loaded = try CheckpointFile.read(checkpoint)
        } catch {
            print("path: \(checkpoint)\nvalid: no (\(error.reason))")
            FileHandle.standardError.write("dtrain: \(error)\n".data(using: .utf8)!)
            throw ExitCode(2)
        }
        let state = loaded.state
        let parameterCount = loaded.parameters.values.reduce(0) { $0 + $1.count }
        let bufferCount = loaded.buffers.values.reduce(0) { $0 + $1.count }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: checkpoint)[.size] as? Int) ?? 0
        let optimizerBuffers = loaded.optimizer.buffers.keys.sorted()
        let metrics = state.metrics.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        print("""
            path: \(loaded.path)
            valid: yes
            step: \(state.step)
            epoch: \(state.epoch)
            step in epoch: \(state.stepInEpoch)
            world size: \(state.worldSize)
            global batch: \(state.globalBatch)
            seed: \(state.seed)
            parameters: \(parameterCount) in \(loaded.parameters.count) tensors
            buffers: \(bufferCount) in \(loaded.buffers.count) tensors
            tensor digest: \(loaded.tensorDigest)
            optimizer: step \(loaded.optimizer.step), buffers \(optimizerBuffers.isEmpty ? "none" : optimizerBuffers.joined(separator: ", "))
            file size: \(bytes) bytes
            metrics: \(metrics.isEmpty ? "none" : metrics.joined(separator: ", "))
            config:
            \(state.configText)
            """)
    }
}
