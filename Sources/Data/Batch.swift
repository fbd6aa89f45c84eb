import Engine

/// Samples ready for the network: normalised images, their labels and their global indices.
public struct Batch: @unchecked Sendable {
    /// Images as Float32 [N, C, H, W], normalised by the dataset's mean and std.
    public let images: Tensor
    /// The class of each image.
    public let labels: [Int]
    /// The global index of each image in its file (what keys per-sample randomness).
    public let indices: [Int]
}
