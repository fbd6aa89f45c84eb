/// Sums over the steps between two log lines: global loss and correct counts, and where the time went.
struct StepWindow {
    var steps = 0
    var samples = 0
    var loss = 0.0
    var correct = 0.0
    var data = 0.0
    var compute = 0.0
    var communication = 0.0

    mutating func add(loss: Double, correct: Double, samples: Int, data: Double, compute: Double, communication: Double) {
        steps += 1
        self.samples += samples
        self.loss += loss
        self.correct += correct
        self.data += data
        self.compute += compute
        self.communication += communication
    }
}
