import Foundation

/// Sums over the steps between two log lines: global loss and correct counts, and where the time went.
struct StepWindow {
    var steps = 0
    var samples = 0
    var loss = 0.0
    var correct = 0.0
    var times = StepTimes(data: 0, compute: 0, exposedCommunication: 0, communication: 0)

    mutating func add(loss: Double, correct: Double, samples: Int, times step: StepTimes) {
        steps += 1
        self.samples += samples
        self.loss += loss
        self.correct += correct
        times.data += step.data
        times.compute += step.compute
        times.exposedCommunication += step.exposedCommunication
        times.communication += step.communication
    }

    /// Global samples per second of wall time.
    var imagesPerSecond: Double { Double(samples) / times.wall }

    /// "step 12.3 ms: data 0.1  compute 10.0  comm 2.2 exposed (5.0 in flight)", per-step averages.
    var timing: String {
        let perStep = { (seconds: Double) in 1000 * seconds / Double(max(1, steps)) }
        return String(format: "step %.1f ms: data %.1f  compute %.1f  comm %.1f exposed (%.1f in flight)",
                      perStep(times.wall), perStep(times.data), perStep(times.compute),
                      perStep(times.exposedCommunication), perStep(times.communication))
    }

    /// The timing as metrics fields: per-step averages in milliseconds; `communication_ms` is the exposed part.
    var timingFields: [(String, Any)] {
        let perStep = { (seconds: Double) in 1000 * seconds / Double(max(1, steps)) }
        return [("images_per_second", imagesPerSecond), ("step_ms", perStep(times.wall)), ("data_ms", perStep(times.data)),
                ("compute_ms", perStep(times.compute)), ("communication_ms", perStep(times.exposedCommunication)),
                ("communication_in_flight_ms", perStep(times.communication))]
    }
}
