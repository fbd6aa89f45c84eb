import Foundation
import Testing
import Trainer

// Part of CheckpointTests, so that `swift test --filter CheckpointTests` runs it too.
extension CheckpointTests {
    /// The tensor digest that `launch/chaos.sh` compares runs by: blind to the config text, metrics and step, and
    /// changed by one flipped bit of any parameter or optimizer buffer.
    @Test func tensorDigestFollowsTheTensorsOnly() throws {
        let (model, optimizer) = try trainedCheckpointTestModel()
        let directory = temporaryCheckpointDirectory("digest")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func digest(step: Int, config: String = "[run]\nseed = 1\n") throws -> String {
            let state = CheckpointState(step: step, epoch: 0, stepInEpoch: step, seed: 1, worldSize: 2, globalBatch: 16,
                                        configText: config, metrics: ["loss": Double(step)])
            let written = try CheckpointFile.write(model: model, optimizer: optimizer.state, state: state,
                                                   directory: directory, keep: 5)
            return try CheckpointFile.read(written.path).tensorDigest
        }
        let first = try digest(step: 1)
        #expect(first.count == 16)
        #expect(try digest(step: 2, config: "[run]\nout_dir = \"elsewhere\"\n") == first)
        model.parameters.pointer[3] = Float(bitPattern: model.parameters.pointer[3].bitPattern ^ 1)
        let flipped = try digest(step: 3)
        #expect(flipped != first)
        var momentum = optimizer.state
        momentum.buffers["momentum_buffer"]![0] += 1
        let state = CheckpointState(step: 4, epoch: 0, stepInEpoch: 4, seed: 1, worldSize: 2, globalBatch: 16,
                                    configText: "", metrics: [:])
        let written = try CheckpointFile.write(model: model, optimizer: momentum, state: state, directory: directory, keep: 5)
        #expect(try CheckpointFile.read(written.path).tensorDigest != flipped)
    }
}
