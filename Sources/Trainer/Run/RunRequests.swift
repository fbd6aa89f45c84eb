/// Requests that change the course of a run at a step boundary; the ranks agree on them in every step.
struct RunRequests {
    /// Write a checkpoint after this step (rank 0's clock says `checkpoint.every_minutes` have passed).
    var checkpoint = false
    /// Write a checkpoint and stop after this step (a signal reached some rank).
    var stop = false
}
