import Comm
import Data
import Engine
import Foundation
import NN

/// Data-parallel training of one config across the ranks of a communicator.
///
/// Every rank holds a full replica, computes the gradient of its slice of each global batch, and the ranks sum
/// their gradients (already divided by the global batch) before every rank takes the same optimizer step, so the
/// replicas stay identical. Rank 0 alone logs and writes files; every collective is called by every rank.
public final class Trainer {
    /// The resolved config.
    public let loaded: LoadedConfig
    let communicator: any Communicator
    var config: TrainingConfig { loaded.config }
    // The ranks' batch-norm statistics are already averaged (no training step since), so averaging again, which
    // need not give back the same bits, is skipped.
    private var buffersInAgreement = false

    public init(loaded: LoadedConfig, communicator: any Communicator) {
        self.loaded = loaded
        self.communicator = communicator
        communicator.stallPolicy = loaded.config.comm.stallPolicy
    }

    /// What a finished run reports.
    public struct Summary: Sendable {
        /// Steps taken in this invocation.
        public let steps: Int
        /// The last evaluation's top-1 accuracy, if any evaluation ran.
        public let top1: Double?
        /// Wall time in seconds.
        public let seconds: Double
        /// Whether a signal ended the run early (after writing a checkpoint).
        public let stoppedBySignal: Bool
    }

    /// Where the sample stream stands: optimizer steps done, and the epoch and step within it of the next step.
    struct Position {
        var step: Int
        var epoch: Int
        var stepInEpoch: Int
    }

    /// The pieces of a run that every subcommand (train, bench) sets up the same way.
    struct Setup {
        /// The training set's batches (augmented as configured).
        let train: any BatchSource
        /// The validation set's batches, if one is configured.
        let validation: (any BatchSource)?
        /// The optimizer step: model, optimizer and gradient reducer.
        let step: TrainingStep
        let schedule: any LearningRateSchedule
        let sampler: GlobalSampler
        let totalSteps: Int
        let log: RunLog

        var model: Model { step.model }
        var optimizer: any Optimizer { step.optimizer }
    }

    /// An error every rank met in the same way, reported by rank 0 alone.
    func reportedByRankZero(_ message: String) -> TrainerError {
        let error = TrainerError.agreed(message)
        return communicator.rank == 0 ? error : error.onOtherRanks
    }

    /// A loader for the dataset file at `path`: decoded images as stored (augmented with crop_flip if configured),
    /// or encoded images decoded to `data.image_size` (RandomResizedCrop unless `data.augment` says otherwise).
    /// Inputs are normalised with `normalization` (the training split's, for a validation split) or else with the
    /// file's own mean and std.
    func openBatches(_ path: String, training: Bool, cacheBytes: Int,
                     normalization: (mean: [Double], std: [Double])? = nil) throws -> any BatchSource {
        let data = config.data
        // The model sees one normalisation, the training split's, whichever split it reads.
        func statistics(_ own: (mean: [Double], std: [Double])) throws -> (mean: [Double], std: [Double]) {
            guard let normalization else { return own }
            guard normalization.mean.count == own.mean.count else {
                throw TrainerError.invalid("data.val \(path) holds images of \(own.mean.count) channel\(own.mean.count == 1 ? "" : "s"), but data.train holds \(normalization.mean.count)")
            }
            return normalization
        }
        guard EncodedImageFile.holdsEncodedImages(path) else {
            if data.augment == .randomResizedCrop {
                throw TrainerError.invalid("data.augment = \"random_resized_crop\" needs encoded images, but \(path) holds decoded ones; use \"crop_flip\" or \"none\"")
            }
            let dataset = try DatasetFile(path: path)
            return try BatchLoader(dataset: dataset, cacheBytes: cacheBytes,
                                   cropPadding: training && data.augment == .cropFlip ? data.cropPadding : nil,
                                   seed: config.run.seed, normalization: try statistics((dataset.mean, dataset.std)))
        }
        guard let size = data.imageSize else {
            throw TrainerError.invalid("\(path) holds encoded images: set data.image_size, the side of the network input (e.g. 224)")
        }
        if data.augment == .cropFlip {
            throw TrainerError.invalid("data.augment = \"crop_flip\" is for decoded images, but \(path) holds encoded ones; use \"random_resized_crop\" or \"none\"")
        }
        let file = try EncodedImageFile(path: path)
        let (mean, std) = try statistics((file.mean, file.std))
        let evaluation = ImageTransform(kind: .resizeCenterCrop(resize: data.resize ?? size * 8 / 7), size: size,
                                        seed: config.run.seed, mean: mean, std: std)
        let augmenting = training && (data.augment ?? .randomResizedCrop) == .randomResizedCrop
        let trainingTransform = augmenting
            ? ImageTransform(kind: .randomResizedCrop, size: size, seed: config.run.seed, mean: mean, std: std) : nil
        return try DecodingLoader(file: file, training: trainingTransform, evaluation: evaluation, workers: data.workers,
                                  cacheBytes: cacheBytes)
    }

    /// Runs `body` on every rank of this run's communicator and agrees on the outcome.
    func collectively<T>(_ body: () throws -> T) throws(TrainerError) -> T {
        try agreeing(communicator, body)
    }

    func setUp() throws(TrainerError) -> Setup {
        let (rank, size) = (communicator.rank, communicator.size)
        let cacheBytes = config.data.cacheMB << 20
        let (train, validation) = try collectively { () throws -> (any BatchSource, (any BatchSource)?) in
            let train = try openBatches(config.data.train, training: true, cacheBytes: cacheBytes)
            let validation = try config.data.validation.map {
                try openBatches($0, training: false, cacheBytes: cacheBytes, normalization: (train.mean, train.std))
            }
            if let validation, validation.sampleShape != train.sampleShape || validation.classNames.count != train.classNames.count {
                throw TrainerError.invalid("data.val \(validation.path) holds \(validation.classNames.count) classes of \(validation.sampleShape), but data.train \(train.path) holds \(train.classNames.count) classes of \(train.sampleShape)")
            }
            return (train, validation)
        }
        let globalBatch = config.data.globalBatch
        try collectively {
            guard globalBatch % size == 0 else {
                throw TrainerError.invalid("data.global_batch = \(globalBatch) is not divisible by the \(size) ranks (each rank takes global_batch / ranks samples)")
            }
            guard train.count >= globalBatch else {
                throw TrainerError.invalid("data.train \(train.path) has \(train.count) samples, fewer than data.global_batch = \(globalBatch): no full step fits")
            }
        }
        let model = try collectively {
            let graph = try config.model.makeGraph(inputShape: train.sampleShape, classes: train.classNames.count)
            return try Model(graph: graph, inputShape: train.sampleShape, seed: config.run.seed)
        }
        // Every rank must run the same config with the same parameter layout, or the gradient allreduce would
        // pair up unrelated buffers (or hang on different sizes).
        var fingerprint = config.fingerprint
        for segment in model.parameterSegments { fingerprint = (fingerprint ^ UInt64(segment.count)) &* 0x100_0000_01b3 }
        guard communicator.agree(fingerprint) else {
            throw reportedByRankZero("the ranks run different configs or models (fingerprints differ); start every rank with the same config file and --set options")
        }
        // Identical replicas: rank 0's initial parameters and buffers everywhere.
        communicator.broadcast(UnsafeMutableRawBufferPointer(model.parameters.buffer), root: 0)
        communicator.broadcast(UnsafeMutableRawBufferPointer(model.buffers.buffer), root: 0)

        let windowChunks = train.isCached ? Int.max : max(1, cacheBytes / max(1, train.chunkBytes))
        let sampler = GlobalSampler(count: train.count, globalBatch: globalBatch, seed: config.run.seed,
                                    shuffle: config.data.shuffle, chunkRows: train.chunkRows, windowChunks: windowChunks)
        let totalSteps = config.run.maxSteps.map { min($0, sampler.stepsPerEpoch * config.run.epochs) }
            ?? sampler.stepsPerEpoch * config.run.epochs
        let log = try collectively {
            if rank == 0 { try FileManager.default.createDirectory(atPath: config.run.outputDirectory, withIntermediateDirectories: true) }
            return try RunLog(enabled: rank == 0, metricsPath: rank == 0 ? config.run.outputDirectory + "/metrics.jsonl" : nil,
                              tensorBoard: TensorBoardLog(directory: config.run.outputDirectory + "/tensorboard", configText: loaded.resolvedText))
        }
        try startFromModelFile(model, log: log)
        let reducer = config.comm.makeReducer(communicator: communicator, gradients: model.gradients.buffer,
                                              segmentStarts: model.parameterSegments.map(\.offset))
        // One rank's batch is the global batch: its own statistics are the global ones.
        if config.syncBatchNorm && size > 1 { model.synchronizeBatchNorm(with: ReducerCrossRankSum(reducer)) }
        let step = TrainingStep(model: model, optimizer: config.optimizer.makeOptimizer(segments: model.parameterSegments),
                                reducer: reducer, communicator: communicator, seed: config.run.seed,
                                globalBatch: globalBatch, labelSmoothing: config.optimizer.labelSmoothing,
                                checkpointDirectory: checkpointDirectory)
        return Setup(train: train, validation: validation, step: step,
                     schedule: config.schedule.makeSchedule(baseLR: config.optimizer.learningRate, globalBatch: globalBatch,
                                                            stepsPerEpoch: sampler.stepsPerEpoch, totalSteps: totalSteps),
                     sampler: sampler, totalSteps: totalSteps, log: log)
    }

    /// Where a run continues from.
    public enum Resume: Sendable, Equatable {
        /// The newest valid checkpoint of the run directory, if there is one.
        case auto
        /// Start afresh.
        case never
        /// This checkpoint file.
        case path(String)
    }

    /// Trains for the configured epochs (or `run.max_steps`), evaluating at the end of every epoch and writing
    /// checkpoints as configured; continues from a checkpoint as `resume` says.
    public func run(resume: Resume = .auto) throws(TrainerError) -> Summary {
        let start = Date()
        let setup = try setUp()
        let (model, sampler, log) = (setup.model, setup.sampler, setup.log)
        let (rank, size) = (communicator.rank, communicator.size)
        if rank == 0 {
            try? loaded.resolvedText.write(toFile: config.run.outputDirectory + "/config.toml", atomically: true, encoding: .utf8)
        }
        log.line("dtrain: \(size) rank\(size == 1 ? "" : "s"), \(config.model.name) with \(model.parameterCount) parameters, "
                 + "\(setup.train.count) training samples of \(setup.train.sampleShape), global batch \(config.data.globalBatch) "
                 + "(\(config.data.globalBatch / size) per rank), \(sampler.stepsPerEpoch) steps per epoch"
                 + (setup.train.isCached ? ", data in memory" : ""))
        log.line("config:\n" + loaded.resolvedText)

        var position = try resumePosition(resume, setup: setup)
        let totalSteps = setup.totalSteps
        var lastTop1: Double?
        var metrics: [String: Double] = [:]
        var window = StepWindow()
        let runClock = Date(), stepsAtStart = position.step
        let control = RunControl(rank: rank, everyMinutes: config.checkpoint.everyMinutes)
        let checkpoints = CheckpointPolicy(everySteps: config.checkpoint.everySteps, totalSteps: totalSteps)

        epochs: for epoch in position.epoch..<config.run.epochs {
            let order = sampler.order(epoch: epoch)
            let first = epoch == position.epoch ? position.stepInEpoch : 0
            let last = min(sampler.stepsPerEpoch, first + totalSteps - position.step)
            guard last > first else { break }
            let loader = setup.train
            let prefetcher = Prefetcher(steps: first..<last) { step throws(DataError) in
                try loader.load(sampler.indices(in: order, step: step, rank: rank, worldSize: size), epoch: epoch)
            }
            defer { prefetcher.stop() }
            for step in first..<last {
                communicator.activity = "step \(position.step + 1) (epoch \(epoch + 1))"
                let dataStart = ContinuousClock.now
                let batch = Result { () throws(DataError) in try prefetcher.next() }
                let dataSeconds = (ContinuousClock.now - dataStart) / .seconds(1)
                let lr = setup.schedule.learningRate(atStep: position.step)
                buffersInAgreement = false
                let outcome = try setup.step(batch, epoch: epoch, learningRate: lr, requests: control.requests())
                let endOfEpoch = step == sampler.stepsPerEpoch - 1
                position = Position(step: position.step + 1, epoch: endOfEpoch ? epoch + 1 : epoch,
                                    stepInEpoch: endOfEpoch ? 0 : step + 1)
                var times = outcome.times
                times.data = dataSeconds
                window.add(loss: outcome.loss, correct: outcome.correct, samples: config.data.globalBatch, times: times)
                if position.step % config.log.everySteps == 0 || step == last - 1 || outcome.requests.stop {
                    let elapsed = Date().timeIntervalSince(runClock)
                    let eta = elapsed / Double(position.step - stepsAtStart) * Double(totalSteps - position.step)
                    metrics["loss"] = window.loss / Double(window.samples)
                    metrics["accuracy"] = window.correct / Double(window.samples)
                    report(window, epoch: epoch, step: step, of: sampler.stepsPerEpoch, globalStep: position.step, lr: lr,
                           eta: eta, log: log)
                    window = StepWindow()
                } else {
                    log.progress(fraction: Double(step + 1) / Double(last),
                                 text: "epoch \(epoch + 1) step \(step + 1)/\(sampler.stepsPerEpoch)")
                }
                if checkpoints.isDue(after: position.step, endOfEpoch: endOfEpoch, requests: outcome.requests) {
                    communicator.activity = "the checkpoint after step \(position.step)"
                    try writeCheckpoint(setup, position: position, metrics: metrics)
                    control.checkpointWritten()
                }
                if outcome.requests.stop {
                    log.line("stopped by a signal after step \(position.step); rerun the same command to continue from its checkpoint")
                    return Summary(steps: position.step - stepsAtStart, top1: lastTop1, seconds: Date().timeIntervalSince(start),
                                   stoppedBySignal: true)
                }
            }
            let finished = last == sampler.stepsPerEpoch || position.step >= totalSteps
            if finished, let top1 = try evaluate(setup, epoch: epoch, globalStep: position.step) {
                lastTop1 = top1
                metrics["top1"] = top1
            }
            if position.step >= totalSteps { break epochs }
        }
        communicator.activity = "the end of the run"
        averageBuffers(model)
        let modelPath = config.run.outputDirectory + "/model.h5"
        if rank == 0 {
            let description = ModelFile.Description(
                model: config.model.name.rawValue, configText: loaded.resolvedText, classNames: setup.train.classNames,
                inputShape: setup.train.sampleShape, mean: setup.train.mean, std: setup.train.std)
            do { try ModelFile.write(model, describedBy: description, to: modelPath) } catch {
                throw .invalid("cannot write \(modelPath): \(error)")
            }
        }
        let seconds = Date().timeIntervalSince(start)
        log.line(String(format: "done: %d steps in %.1f s, model in %@", position.step, seconds, modelPath)
                 + (lastTop1.map { String(format: ", final top-1 %.2f%%", 100 * $0) } ?? ""))
        return Summary(steps: position.step - stepsAtStart, top1: lastTop1, seconds: seconds, stoppedBySignal: false)
    }

    /// Prints and records the averages of the steps since the last report.
    private func report(_ window: StepWindow, epoch: Int, step: Int, of stepsPerEpoch: Int, globalStep: Int, lr: Float,
                        eta: Double, log: RunLog) {
        let (loss, accuracy) = (window.loss / Double(window.samples), window.correct / Double(window.samples))
        log.line(String(format: "epoch %d step %d/%d  loss %.4f  acc %.2f%%  lr %.5g  %.0f img/s  ", epoch + 1, step + 1,
                        stepsPerEpoch, loss, 100 * accuracy, lr, window.imagesPerSecond) + window.timing + "  eta " + Trainer.duration(eta))
        log.record([("type", "train"), ("epoch", epoch + 1), ("step", step + 1), ("global_step", globalStep),
                    ("loss", loss), ("accuracy", accuracy), ("lr", lr)] + window.timingFields)
    }

    /// Evaluates every validation sample exactly once across the ranks and logs the summed counts.
    ///
    /// Batch-norm running statistics are averaged across ranks first: each rank updated them from its own slice,
    /// and evaluating one model whatever the number of ranks needs one set of them.
    func evaluate(_ setup: Setup, epoch: Int, globalStep: Int) throws(TrainerError) -> Double? {
        guard let validation = setup.validation else { return nil }
        let loader = validation
        let (model, size) = (setup.model, communicator.size)
        communicator.activity = "the validation after epoch \(epoch + 1)"
        averageBuffers(model)
        let shard = EvaluationShard(count: validation.count, rank: communicator.rank, worldSize: size)
        let classes = model.outputShape[0]
        var totals: [Double] = [0, 0, 0, 0]  // samples, loss sum, top-1, top-5
        var gradient: Tensor?
        var readFailure: DataError?
        for rows in shard.batches(of: max(1, config.data.evalBatch / size)) {
            let batch: Batch
            do { batch = try loader.load(rows: rows) } catch {
                readFailure = error
                break
            }
            let logits = model.forward(batch.images, context: ForwardContext(mode: .evaluation, sampleIndices: batch.indices))
            gradient = Tensor.reusing(gradient, shape: logits.shape)
            totals[0] += Double(rows.count)
            totals[1] += SoftmaxCrossEntropy.evaluate(logits: logits, labels: batch.labels, normalizer: 1, gradient: gradient!)
            totals[2] += Double(Accuracy.correct(logits: logits, labels: batch.labels, k: 1))
            if classes > 5 { totals[3] += Double(Accuracy.correct(logits: logits, labels: batch.labels, k: 5)) }
        }
        // A read failure rides on the totals' allreduce, as in the training step.
        totals.append(readFailure != nil ? 1 : 0)
        totals.withUnsafeMutableBufferPointer { communicator.allreduce($0, .sum) }
        try communicator.stopIfAnyRankFailed(totals[4] > 0, failure: readFailure.map { "\($0)" })
        let (loss, top1, top5) = (totals[1] / totals[0], totals[2] / totals[0], totals[3] / totals[0])
        setup.log.line(String(format: "epoch %d validation: loss %.4f  top-1 %.2f%%", epoch + 1, loss, 100 * top1)
                       + (classes > 5 ? String(format: "  top-5 %.2f%%", 100 * top5) : "")
                       + "  (\(Int(totals[0])) samples)")
        var record: [(String, Any)] = [("type", "eval"), ("epoch", epoch + 1), ("global_step", globalStep),
                                       ("samples", Int(totals[0])), ("loss", loss), ("top1", top1)]
        if classes > 5 { record.append(("top5", top5)) }
        setup.log.record(record)
        return top1
    }

    /// Makes every rank's batch-norm running statistics their average over the ranks (a collective).
    func averageBuffers(_ model: Model) {
        guard model.buffers.count > 0, communicator.size > 1, !buffersInAgreement else { return }
        buffersInAgreement = true
        communicator.allreduce(model.buffers.buffer, .sum)
        Elementwise.scale(model.buffers.pointer, by: 1 / Float(communicator.size), count: model.buffers.count)
    }

    /// "1h02m", "4m05s" or "12s".
    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total >= 3600 { return String(format: "%dh%02dm", total / 3600, total % 3600 / 60) }
        if total >= 60 { return String(format: "%dm%02ds", total / 60, total % 60) }
        return "\(total)s"
    }
}
