import CMPI

/// How gradients travel between the ranks.
public enum GradientCompression: String, Sendable, CaseIterable {
    /// As float32.
    case none
    /// As bfloat16 (half the bytes), added in float32 at every hop and rounded to bfloat16 between hops: each
    /// element's sum is off by at most about 2^-8 of the sum of its magnitudes per rank.
    case bf16
}

extension Communicator {
    /// Sums `buffer` over the ranks as `compression` says; with bfloat16 the values travel through `staging`,
    /// which must hold `buffer.count` elements.
    func sum(_ buffer: UnsafeMutableBufferPointer<Float>, compression: GradientCompression,
             staging: UnsafeMutablePointer<UInt16>?) {
        guard compression == .bf16, let staging, let base = buffer.baseAddress else {
            allreduce(buffer, .sum)
            return
        }
        dtrain_bf16_encode(base, staging, buffer.count)
        allreduceBFloat16Sum(UnsafeMutableBufferPointer(start: staging, count: buffer.count))
        dtrain_bf16_decode(staging, base, buffer.count)
    }
}
