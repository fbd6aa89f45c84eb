/// The slices of a flat gradient buffer that travel together, from the end of the buffer to its start.
///
/// Buckets are cut only where a parameter segment starts, walking back from the end, so each holds whole
/// segments: a bucket closes once it holds at least its byte limit (the first one, at the end of the buffer, has a
/// small limit so that communication starts early in backward, as PyTorch's DDP does), and the last bucket takes
/// what remains. Every rank builds the same plan from the same segments, so the ranks' collectives pair up.
public struct BucketPlan: Sendable, Equatable {
    /// The buckets' element ranges, the end of the buffer first; together they cover it exactly.
    public let buckets: [Range<Int>]

    /// A plan for a buffer of `count` Float elements whose segments start at `segmentStarts`.
    ///
    /// `bucketBytes` limits every bucket but the first, which `firstBucketBytes` limits (both at least 1).
    public init(count: Int, segmentStarts: [Int], bucketBytes: Int, firstBucketBytes: Int) {
        precondition(bucketBytes > 0 && firstBucketBytes > 0, "BucketPlan needs positive bucket sizes")
        let cuts = Set(segmentStarts.filter { $0 > 0 && $0 < count }).sorted(by: >)
        var buckets: [Range<Int>] = []
        var end = count
        for cut in cuts {
            let limit = buckets.isEmpty ? firstBucketBytes : bucketBytes
            if (end - cut) * MemoryLayout<Float>.size >= limit {
                buckets.append(cut..<end)
                end = cut
            }
        }
        if end > 0 { buckets.append(0..<end) }
        self.buckets = buckets
    }
}
