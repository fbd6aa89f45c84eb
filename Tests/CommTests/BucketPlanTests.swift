import Comm
import Testing

/// Cutting a flat gradient buffer into buckets at parameter boundaries, from its end.
@Suite struct BucketPlanTests {
    /// Segments of 10, 20, 30, 40 and 50 floats (40 bytes to 200 bytes) starting at 0, 10, 30, 60, 100.
    private let starts = [0, 10, 30, 60, 100]

    @Test func bucketsCoverTheBufferFromItsEndAndCutOnlyAtSegmentStarts() {
        let plan = BucketPlan(count: 150, segmentStarts: starts, bucketBytes: 280, firstBucketBytes: 100)
        // First bucket: the last segment (200 bytes ≥ 100); then 40 + 30 floats (280 bytes); then the rest.
        #expect(plan.buckets == [100..<150, 30..<100, 0..<30])
    }

    @Test func aSegmentLargerThanTheLimitTravelsAlone() {
        let plan = BucketPlan(count: 150, segmentStarts: starts, bucketBytes: 4, firstBucketBytes: 4)
        #expect(plan.buckets == [100..<150, 60..<100, 30..<60, 10..<30, 0..<10])
    }

    @Test func limitsAboveTheBufferGiveOneBucket() {
        let plan = BucketPlan(count: 150, segmentStarts: starts, bucketBytes: 25 << 20, firstBucketBytes: 1 << 20)
        #expect(plan.buckets == [0..<150])
    }

    @Test func emptyBufferHasNoBuckets() {
        #expect(BucketPlan(count: 0, segmentStarts: [0], bucketBytes: 8, firstBucketBytes: 8).buckets.isEmpty)
    }
}
