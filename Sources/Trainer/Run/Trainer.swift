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
        let model: Model
        let optimizer: any Optimizer
        let schedule: any LearningRateSchedule
        let sampler: GlobalSampler
        let totalSteps: Int
        let log: RunLog
    }

    /// An error every rank met in the same way, reported by rank 0 alone.
    func reportedByRankZero(_ message: String) -> TrainerError {
        let error = TrainerError.agreed(message)
        return communicator.rank == 0 ? error : error.onOtherRanks
    }

    /// A loader for the dataset file at `path`: decoded images as stored (augmented with crop_flip if configured),
    /// or encoded images decoded to `data.image_size` (RandomResizedCrop unless `data.augment` says otherwise).
    func openBatches(_ path: String, training: Bool, cacheBytes: Int) throws -> any BatchSource {
        let data = config.data
        guard EncodedImageFile.holdsEncodedImages(path) else {
            if data.augment == .randomResizedCrop {
                throw TrainerError.invalid("data.augment = \"random_resized_crop\" needs encoded images, but \(path) holds decoded ones; use \"crop_flip\" or \"none\"")
            }
            let dataset = try DatasetFile(path: path)
            return try BatchLoader(dataset: dataset, cacheBytes: cacheBytes,
                                   cropPadding: training && data.augment == .cropFlip ? data.cropPadding : nil,
                                   seed: config.run.seed)
        }
        guard let size = data.imageSize else {
            throw TrainerError.invalid("\(path) holds encoded images: set data.image_size, the side of the network input (e.g. 224)")
        }
        if data.augment == .cropFlip {
            throw TrainerError.invalid("data.augment = \"crop_flip\" is for decoded images, but \(path) holds encoded ones; use \"random_resized_crop\" or \"none\"")
        }
        let file = try EncodedImageFile(path: path)
        let evaluation = ImageTransform(kind: .resizeCenterCrop(resize: data.resize ?? size * 8 / 7), size: size,
                                        seed: config.run.seed, mean: file.mean, std: file.std)
        let augmenting = training && (data.augment ?? .randomResizedCrop) == .randomResizedCrop
        let trainingTransform = augmenting
            ? ImageTransform(kind: .randomResizedCrop, size: size, seed: config.run.seed, mean: file.mean, std: file.std) : nil
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
            let validation = try config.data.validation.map { try openBatches($0, training: false, cacheBytes: cacheBytes) }
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
        return Setup(train: train, validation: validation, model: model,
                     optimizer: config.optimizer.makeOptimizer(segments: model.parameterSegments),
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
        let localBatch = config.data.globalBatch / size
        let gradient = Tensor(zeros: [localBatch] + model.outputShape)
        var window = StepWindow()
        let runClock = Date(), stepsAtStart = position.step
        var lastCheckpoint = Date()

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
                let t0 = Date()
                let batch = Result { () throws(DataError) in try prefetcher.next() }
                let t1 = Date()
                let lr = setup.schedule.learningRate(atStep: position.step)
                let timed = config.checkpoint.everyMinutes.map { rank == 0 && Date().timeIntervalSince(lastCheckpoint) >= 60 * $0 } ?? false
                let result = try trainStep(setup, batch: batch, epoch: epoch, learningRate: lr, gradient: gradient,
                                           checkpointDue: timed)
                let endOfEpoch = step == sampler.stepsPerEpoch - 1
                position = Position(step: position.step + 1, epoch: endOfEpoch ? epoch + 1 : epoch,
                                    stepInEpoch: endOfEpoch ? 0 : step + 1)
                window.add(loss: result.loss, correct: result.correct, samples: config.data.globalBatch,
                           data: t1.timeIntervalSince(t0), compute: result.compute, communication: result.communication)
                if position.step % config.log.everySteps == 0 || step == last - 1 || result.stopRequested {
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
                let everySteps = config.checkpoint.everySteps.map { position.step % $0 == 0 } ?? false
                if everySteps || result.checkpointDue || result.stopRequested || endOfEpoch || position.step == totalSteps {
                    communicator.activity = "the checkpoint after step \(position.step)"
                    try writeCheckpoint(setup, position: position, metrics: metrics)
                    lastCheckpoint = Date()
                }
                if result.stopRequested {
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

    /// The global loss sum and correct count of a step, the ranks' agreed requests, and the seconds spent
    /// computing and communicating.
    struct StepResult {
        let loss: Double, correct: Double, compute: Double, communication: Double
        /// The part of `compute` after the collectives: the finiteness check and the optimizer's update.
        let update: Double
        /// Rank 0's clock says a timed checkpoint is due.
        let checkpointDue: Bool
        /// Some rank received a stop signal.
        let stopRequested: Bool
    }

    /// One optimizer step on this rank's `batch`: forward, backward, gradient allreduce, update.
    ///
    /// A rank whose batch could not be read still takes part in the step's collectives, with no gradient, and the
    /// failure rides on the statistics allreduce: every rank stops together and the lowest failing rank reports.
    func trainStep(_ setup: Setup, batch: Result<Batch, DataError>, epoch: Int, learningRate: Float, gradient: Tensor,
                   checkpointDue: Bool = false) throws(TrainerError) -> StepResult {
        let model = setup.model
        let t0 = Date()
        model.zeroGradients()
        var lossSum = 0.0, correct = 0
        if case .success(let batch) = batch {
            let context = ForwardContext(mode: .training, seed: config.run.seed, epoch: epoch, sampleIndices: batch.indices)
            let logits = model.forward(batch.images, context: context)
            lossSum = SoftmaxCrossEntropy.evaluate(logits: logits, labels: batch.labels,
                                                   normalizer: config.data.globalBatch, gradient: gradient,
                                                   labelSmoothing: config.optimizer.labelSmoothing)
            correct = Accuracy.correct(logits: logits, labels: batch.labels, k: 1)
            model.backward(gradient)
        }
        buffersInAgreement = false
        let t1 = Date()
        communicator.allreduce(model.gradients.buffer, .sum)
        // The requests ride on the statistics allreduce, so agreeing on them costs no extra collective.
        let readFailure: DataError? = if case .failure(let error) = batch { error } else { nil }
        var statistics: [Double] = [lossSum, Double(correct), checkpointDue ? 1 : 0, StopSignal.pending != 0 ? 1 : 0,
                                    readFailure != nil ? 1 : 0]
        statistics.withUnsafeMutableBufferPointer { communicator.allreduce($0, .sum) }
        let t2 = Date()
        try stopIfAnyRankFailed(statistics[4] > 0, failure: readFailure.map { "\($0)" })
        // Every rank sees the same summed loss and gradients, so every rank stops here together, before the update.
        try checkFinite(model, loss: statistics[0])
        setup.optimizer.step(parameters: model.parameters, gradients: model.gradients, learningRate: learningRate)
        let t3 = Date()
        return StepResult(loss: statistics[0], correct: statistics[1],
                          compute: t1.timeIntervalSince(t0) + t3.timeIntervalSince(t2), communication: t2.timeIntervalSince(t1),
                          update: t3.timeIntervalSince(t2), checkpointDue: statistics[2] > 0, stopRequested: statistics[3] > 0)
    }

    /// After a collective that told every rank whether some rank failed: when one did, every rank stops, and the
    /// lowest failing rank reports its failure (one more collective, taken only then).
    func stopIfAnyRankFailed(_ anyFailed: Bool, failure: String?) throws(TrainerError) {
        guard anyFailed else { return }
        let first = communicator.allreduce(failure != nil ? communicator.rank : Int.max, .min)
        if first == communicator.rank, let failure { throw .agreed(failure) }
        throw TrainerError.agreed("").onOtherRanks
    }

    /// Stops the run, before the step's update and before any checkpoint of it, when the loss or a gradient is
    /// NaN or infinite, naming the first parameter whose gradient is.
    func checkFinite(_ model: Model, loss: Double) throws(TrainerError) {
        let gradients = model.gradients
        guard !loss.isFinite || !Reduction.allFinite(gradients.pointer, count: gradients.count) else { return }
        let what = Self.firstNonFinite(gradients.pointer, of: model).map { "the gradient of \($0.name)" } ?? "the loss"
        let meanLoss = String(format: "%.4g", loss / Double(config.data.globalBatch))
        throw reportedByRankZero(diverged: "\(communicator.activity): \(what) is not finite (loss \(meanLoss))")
    }

    /// The first parameter segment of `model` whose values in `buffer` (parameters or gradients) are not finite.
    static func firstNonFinite(_ buffer: UnsafePointer<Float>, of model: Model) -> ParameterSegment? {
        model.parameterSegments.first { !Reduction.allFinite(buffer + $0.offset, count: $0.count) }
    }

    /// A run that stopped being finite, reported by rank 0 with what the newest checkpoint is.
    func reportedByRankZero(diverged message: String) -> TrainerError {
        guard communicator.rank == 0 else { return TrainerError.diverged("").onOtherRanks }
        let newest = CheckpointFile.newestValid(in: checkpointDirectory) { _ in }?.path
        return .diverged(message + "; " + (newest.map { "the newest checkpoint, \($0), is from before it" } ?? "no checkpoint was written")
                         + "; lower optimizer.lr or add warmup")
    }

    /// Times `steps` training steps after `warmup` untimed ones and prints images per second and the time split;
    /// with `profile`, also the time of every layer's forward and backward pass (rank 0's).
    public func benchmark(steps: Int, warmup: Int = 2, profile: Bool = false) throws(TrainerError) {
        let setup = try setUp()
        let (rank, size) = (communicator.rank, communicator.size)
        let order = setup.sampler.order(epoch: 0)
        let stepsPerEpoch = setup.sampler.stepsPerEpoch
        let gradient = Tensor(zeros: [config.data.globalBatch / size] + setup.model.outputShape)
        let loader = setup.train, sampler = setup.sampler
        let prefetcher = Prefetcher(steps: 0..<(warmup + steps)) { step throws(DataError) in
            try loader.load(sampler.indices(in: order, step: step % stepsPerEpoch, rank: rank, worldSize: size), epoch: 0)
        }
        defer { prefetcher.stop() }
        var window = StepWindow(), update = 0.0
        for index in 0..<(warmup + steps) {
            if index == warmup && profile { setup.model.profile = LayerProfile(graph: setup.model.graph) }
            let t0 = Date()
            let batch = Result { () throws(DataError) in try prefetcher.next() }
            let t1 = Date()
            let result = try trainStep(setup, batch: batch, epoch: 0, learningRate: config.optimizer.learningRate, gradient: gradient)
            if index >= warmup {
                window.add(loss: result.loss, correct: result.correct, samples: config.data.globalBatch,
                           data: t1.timeIntervalSince(t0), compute: result.compute, communication: result.communication)
                update += result.update
            }
        }
        // The slowest rank sets the pace of a synchronous step.
        let total = communicator.allreduce(window.data + window.compute + window.communication, .max)
        let perStep = { (seconds: Double) in 1000 * seconds / Double(steps) }
        setup.log.line(String(format: "bench: %@, %d rank%@, global batch %d: %.1f img/s (%.1f per rank), %.1f ms/step: data %.1f ms, compute %.1f ms, comm %.1f ms",
                              config.model.name.rawValue, size, size == 1 ? "" : "s", config.data.globalBatch,
                              Double(steps * config.data.globalBatch) / total,
                              Double(steps * config.data.globalBatch) / total / Double(size), perStep(total),
                              perStep(window.data), perStep(window.compute), perStep(window.communication)))
        if let layers = setup.model.profile {
            setup.model.profile = nil
            let mean = { (seconds: Double) in seconds / Double(steps) }
            setup.log.line("bench: time per step by layer (rank 0):\n" + layers.table(
                stepSeconds: mean(window.data + window.compute + window.communication),
                extra: [("optimizer update", mean(update)), ("gradient allreduce", mean(window.communication)),
                        ("data wait", mean(window.data))]))
        }
    }

    /// Prints and records the averages of the steps since the last report.
    private func report(_ window: StepWindow, epoch: Int, step: Int, of stepsPerEpoch: Int, globalStep: Int, lr: Float,
                        eta: Double, log: RunLog) {
        let steps = Double(window.steps)
        let (loss, accuracy) = (window.loss / Double(window.samples), window.correct / Double(window.samples))
        let rate = Double(window.samples) / (window.data + window.compute + window.communication)
        log.line(String(format: "epoch %d step %d/%d  loss %.4f  acc %.2f%%  lr %.5g  %.0f img/s  data %.1f ms  compute %.1f ms  comm %.1f ms  eta %@",
                        epoch + 1, step + 1, stepsPerEpoch, loss, 100 * accuracy, lr, rate,
                        1000 * window.data / steps, 1000 * window.compute / steps, 1000 * window.communication / steps,
                        Trainer.duration(eta)))
        log.record([("type", "train"), ("epoch", epoch + 1), ("step", step + 1), ("global_step", globalStep),
                    ("loss", loss), ("accuracy", accuracy), ("lr", lr), ("images_per_second", rate),
                    ("data_ms", 1000 * window.data / steps), ("compute_ms", 1000 * window.compute / steps),
                    ("communication_ms", 1000 * window.communication / steps)])
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
        try stopIfAnyRankFailed(totals[4] > 0, failure: readFailure.map { "\($0)" })
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
