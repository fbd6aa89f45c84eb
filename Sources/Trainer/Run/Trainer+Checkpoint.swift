import Comm
import Data
import Engine
import Foundation
import NN

extension Trainer {
    /// The folder of a run's checkpoints.
    var checkpointDirectory: String { config.run.outputDirectory + "/checkpoints" }

    /// Finds, verifies and restores the checkpoint `resume` names, and returns where training continues.
    ///
    /// Rank 0 chooses the file (the newest valid one for `.auto`) and tells the others, so every rank restores the
    /// same one; every rank then reads and verifies it itself.
    func resumePosition(_ resume: Resume, setup: Setup) throws(TrainerError) -> Position {
        let start = Position(step: 0, epoch: 0, stepInEpoch: 0)
        var chosen = ""
        if communicator.rank == 0 {
            switch resume {
            case .never: break
            case .path(let path): chosen = path
            case .auto:
                chosen = CheckpointFile.newestValid(in: checkpointDirectory) { setup.log.line("dtrain: \($0)") }?.path ?? ""
            }
        }
        chosen = communicator.broadcast(chosen, root: 0)
        guard !chosen.isEmpty else { return start }
        let checkpoint = try collectively { try CheckpointFile.read(chosen) }
        let state = checkpoint.state
        try collectively { try checkCompatibility(of: checkpoint) }
        try collectively {
            try checkpoint.restore(into: setup.model)
            try setup.optimizer.restore(checkpoint.optimizer)
        }
        setup.log.line("resuming from \(chosen): step \(state.step), epoch \(state.epoch + 1) step \(state.stepInEpoch + 1)"
                       + (state.worldSize != communicator.size ? ", written by \(state.worldSize) ranks, continuing on \(communicator.size)" : ""))
        return Position(step: state.step, epoch: state.epoch, stepInEpoch: state.stepInEpoch)
    }

    /// Refuses a checkpoint whose run cannot continue under this config (another model or global batch) and reports
    /// the harmless differences (epochs, logging, checkpoint policy).
    func checkCompatibility(of checkpoint: Checkpoint) throws(TrainerError) {
        let previous: TrainingConfig
        do {
            previous = try ConfigLoader.parse(text: checkpoint.state.configText, file: checkpoint.path).config
        } catch {
            throw .invalid("the config stored in \(checkpoint.path) does not load: \(error)")
        }
        let name = (checkpoint.path as NSString).lastPathComponent
        if previous.model != config.model {
            throw .invalid("\(name) was trained with model \(previous.model.name.rawValue) as configured then; this config's model section differs, so the run cannot continue (use --resume never or another run.out_dir)")
        }
        if previous.data.globalBatch != config.data.globalBatch {
            throw .invalid("\(name) was trained with data.global_batch = \(previous.data.globalBatch), this config has \(config.data.globalBatch): the sample stream cannot continue (use --resume never or another run.out_dir)")
        }
        if previous.run.seed != config.run.seed {
            throw .invalid("\(name) was trained with run.seed = \(previous.run.seed), this config has \(config.run.seed): the sample stream cannot continue")
        }
        let before = Set(checkpoint.state.configText.split(separator: "\n")), now = loaded.resolvedText.split(separator: "\n")
        let changed = now.filter { !before.contains($0) && !$0.hasPrefix("#") && $0.contains("=") }
        if !changed.isEmpty && communicator.rank == 0 {
            RunLog.write("dtrain: resuming with changed settings: \(changed.joined(separator: "; "))\n")
        }
    }

    /// Writes a checkpoint of the current state: every rank averages the batch-norm statistics (a collective), then
    /// rank 0 alone writes. A failed write is reported and training goes on; the previous checkpoints stay.
    func writeCheckpoint(_ setup: Setup, position: Position, metrics: [String: Double]) throws(TrainerError) {
        averageBuffers(setup.model)
        // An update can overflow finite gradients into infinite parameters; such a state is never saved.
        let parameters = setup.model.parameters
        if !Reduction.allFinite(parameters.pointer, count: parameters.count) {
            let bad = setup.model.firstNonFinite(parameters.pointer)
            throw communicator.divergence("after step \(position.step): parameter \(bad?.name ?? "?") is not finite",
                                          checkpointDirectory: checkpointDirectory)
        }
        guard communicator.rank == 0 else { return }
        let state = CheckpointState(step: position.step, epoch: position.epoch, stepInEpoch: position.stepInEpoch,
                                    seed: config.run.seed, worldSize: communicator.size, globalBatch: config.data.globalBatch,
                                    configText: loaded.resolvedText, metrics: metrics)
        do {
            let written = try CheckpointFile.write(model: setup.model, optimizer: setup.optimizer.state, state: state,
                                                   directory: checkpointDirectory, keep: config.checkpoint.keep)
            setup.log.line(String(format: "checkpoint %@ (%.1f MB, %.2f s)", written.path, Double(written.bytes) / 1e6, written.seconds))
        } catch {
            setup.log.line("dtrain: could not write a checkpoint at step \(position.step): \(error); training goes on")
        }
    }

    /// Evaluates the model stored in `path`, a checkpoint or a model file, on the config's validation set.
    public func evaluate(checkpoint path: String) throws(TrainerError) {
        let setup = try setUp()
        guard setup.validation != nil else { throw reportedByRankZero("data.val is not set in the config: nothing to evaluate on") }
        if ModelFile.isModelFile(path) {
            try collectively { try ModelFile.restore(path, into: setup.model) }
            setup.log.line("evaluating the model file \(path)")
            _ = try evaluate(setup, epoch: 0, globalStep: 0)
            return
        }
        let checkpoint = try collectively { try CheckpointFile.read(path) }
        try collectively { try checkpoint.restore(into: setup.model) }
        setup.log.line("evaluating \(path) (step \(checkpoint.state.step))")
        _ = try evaluate(setup, epoch: max(0, checkpoint.state.epoch - 1), globalStep: checkpoint.state.step)
    }
}
