import Foundation

/// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), a counter-based generator.
///
/// Every draw is a pure function of (seed, stream, index): nothing is carried from one draw to the next, so a
/// value can be recomputed anywhere (another rank, a resumed run) from its coordinates alone.
public struct Philox: Sendable {
    /// The 64-bit key, as two 32-bit words.
    public let key: (UInt32, UInt32)

    /// A generator keyed by `seed`.
    public init(seed: UInt64) {
        key = (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
    }

    /// The four random words of one counter value (ten Philox rounds).
    public func block(_ counter: SIMD4<UInt32>) -> SIMD4<UInt32> {
        var c = counter
        var k0 = key.0, k1 = key.1
        for round in 0..<10 {
            if round > 0 {
                k0 &+= 0x9E37_79B9
                k1 &+= 0xBB67_AE85
            }
            let p0 = UInt64(0xD251_1F53) &* UInt64(c[0])
            let p1 = UInt64(0xCD9E_8D57) &* UInt64(c[2])
            c = SIMD4(UInt32(truncatingIfNeeded: p1 >> 32) ^ c[1] ^ k0, UInt32(truncatingIfNeeded: p1),
                      UInt32(truncatingIfNeeded: p0 >> 32) ^ c[3] ^ k1, UInt32(truncatingIfNeeded: p0))
        }
        return c
    }

    /// The block at position `block` of `stream`: the counter holds the block index in its low words, the stream in its high ones.
    @inline(__always)
    func block(stream: UInt64, block: UInt64) -> SIMD4<UInt32> {
        self.block(SIMD4(UInt32(truncatingIfNeeded: block), UInt32(truncatingIfNeeded: block >> 32),
                         UInt32(truncatingIfNeeded: stream), UInt32(truncatingIfNeeded: stream >> 32)))
    }

    /// A uniform value in [0, 1) from a random word (24 random bits, exact in Float32).
    @inline(__always)
    public static func unit(_ word: UInt32) -> Float {
        Float(word >> 8) * 0x1p-24
    }

    /// The 64 random bits at `index` of `stream` (the first two words of block `index`).
    public func random64(stream: UInt64, index: UInt64) -> UInt64 {
        let words = block(stream: stream, block: index)
        return UInt64(words[0]) | UInt64(words[1]) << 32
    }

    /// A uniformly drawn integer in 0..<bound from the bits at `index` of `stream` (Lemire's multiply-shift, whose
    /// bias of at most bound / 2^64 is negligible for any dataset size).
    public func integer(below bound: Int, stream: UInt64, index: UInt64) -> Int {
        precondition(bound > 0, "Philox: integer below \(bound)")
        return Int(random64(stream: stream, index: index).multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// The uniform value in [0, 1) at `index` of `stream`.
    public func uniform(stream: UInt64, index: UInt64) -> Float {
        Philox.unit(block(stream: stream, block: index / 4)[Int(index % 4)])
    }

    /// Fills `count` elements with the uniform values of `stream` at indices `start`, `start + 1`, ...
    public func fillUniform(_ destination: UnsafeMutablePointer<Float>, count: Int, stream: UInt64, start: UInt64 = 0) {
        var i = 0
        while i < count {
            let index = start + UInt64(i)
            let words = block(stream: stream, block: index / 4)
            var lane = Int(index % 4)
            while lane < 4 && i < count {
                destination[i] = Philox.unit(words[lane])
                lane += 1
                i += 1
            }
        }
    }

    /// Fills `count` elements with standard normal values of `stream` (Box-Muller on the words of block `start + i`).
    public func fillNormal(_ destination: UnsafeMutablePointer<Float>, count: Int, stream: UInt64, start: UInt64 = 0) {
        for i in 0..<count {
            let words = block(stream: stream, block: start + UInt64(i))
            // Doubles from 32 bits each; u1 in (0, 1] so the logarithm is finite.
            let u1 = (Double(words[0]) + 1) * 0x1p-32
            let u2 = Double(words[1]) * 0x1p-32
            destination[i] = Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
        }
    }
}
