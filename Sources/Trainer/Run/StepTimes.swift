/// Where the wall time of one training step went, in seconds.
///
/// Data, compute and exposed communication add up to the step's wall time; `communication` is how long
/// collectives were in progress, most of it hidden behind backward when gradients travel in buckets.
struct StepTimes {
    /// Waiting for the step's batch.
    var data: Double
    /// Forward, backward and update, with whatever the communication thread took from the core meanwhile.
    var compute: Double
    /// Waiting for communication that backward did not hide (the end of the gradient reduction, the statistics).
    var exposedCommunication: Double
    /// Collectives in progress, hidden or not.
    var communication: Double

    /// The step's wall time.
    var wall: Double { data + compute + exposedCommunication }
}
