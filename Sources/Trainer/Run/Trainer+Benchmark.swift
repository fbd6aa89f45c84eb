import Comm
import Data
import Foundation
import NN

extension Trainer {
    /// Times `steps` training steps after `warmup` untimed ones and prints images per second and the time split;
    /// with `profile`, also each layer's forward and backward time (rank 0's).
    ///
    /// The slowest rank sets the pace of a synchronous step, so the wall time is the ranks' maximum; communication
    /// is split into what backward hid and what the step waited for, and the ranks' fastest and slowest compute
    /// show how much of that wait was for a slower rank.
    public func benchmark(steps: Int, warmup: Int = 2, profile: Bool = false) throws(TrainerError) {
        let setup = try setUp()
        let (rank, size) = (communicator.rank, communicator.size)
        let order = setup.sampler.order(epoch: 0)
        let stepsPerEpoch = setup.sampler.stepsPerEpoch
        let loader = setup.train, sampler = setup.sampler
        let prefetcher = Prefetcher(steps: 0..<(warmup + steps)) { step throws(DataError) in
            try loader.load(sampler.indices(in: order, step: step % stepsPerEpoch, rank: rank, worldSize: size), epoch: 0)
        }
        defer { prefetcher.stop() }
        var window = StepWindow()
        for index in 0..<(warmup + steps) {
            if index == warmup && profile { setup.model.profile = LayerProfile(model: setup.model) }
            communicator.activity = "benchmark step \(index + 1)"
            let dataStart = ContinuousClock.now
            let batch = Result { () throws(DataError) in try prefetcher.next() }
            let dataSeconds = (ContinuousClock.now - dataStart) / .seconds(1)
            let outcome = try setup.step(batch, epoch: 0, learningRate: config.optimizer.learningRate, requests: RunRequests())
            var times = outcome.times
            times.data = dataSeconds
            if index >= warmup {
                window.add(loss: outcome.loss, correct: outcome.correct, samples: config.data.globalBatch, times: times)
            }
        }
        let rate = Double(window.samples) / communicator.allreduce(window.times.wall, .max)
        // Every rank waits for the slowest one's compute, so a spread here is exposed communication elsewhere.
        let compute = 1000 * window.times.compute / Double(max(1, steps))
        var spread = ""
        if size > 1 {
            let (fastest, slowest) = (communicator.allreduce(compute, .min), communicator.allreduce(compute, .max))
            spread = String(format: "; compute over the ranks %.1f-%.1f ms", fastest, slowest)
        }
        setup.log.line(String(format: "bench: %@, %d rank%@, global batch %d, %@: %.1f img/s (%.1f per rank), ",
                              config.model.name.rawValue, size, size == 1 ? "" : "s", config.data.globalBatch,
                              setup.step.reducer.description, rate, rate / Double(size)) + window.timing + spread)
        if let layers = setup.model.profile {
            setup.model.profile = nil
            let perStep = { (seconds: Double) in seconds / Double(steps) }
            setup.log.line("bench: time per step by layer (rank 0):\n" + layers.table(
                stepSeconds: perStep(window.times.wall),
                extra: [("communication not hidden", perStep(window.times.exposedCommunication)),
                        ("data wait", perStep(window.times.data))]))
        }
    }
}
