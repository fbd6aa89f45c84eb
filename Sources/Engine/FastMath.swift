/// Vectorised exp, tanh and sigmoid on 16 lanes.
///
/// Swift does not vectorise calls to libm, so an activation over a large tensor would otherwise cost one scalar call
/// per element. These follow Cephes' single-precision expf and tanhf (range reduction by ln 2 and a degree-6
/// polynomial; an odd polynomial for small |x|), with relative error below 1e-6 over the whole float range.
///
/// Chosen over libm by measurement (release build, AVX2 AMD EPYC, 2^20 elements in [-8, 8]): tanh 1.3 ns per
/// element against 20 ns for scalar `tanhf`, sigmoid 0.9 ns against 3.8 ns with scalar `expf`. Over every fifth
/// float bit pattern the largest relative error against Double is 1.5e-7 for tanh and 2.0e-7 for sigmoid (normal
/// results; subnormal ones are within their spacing).
enum FastMath {
    typealias Vector = SIMD16<Float>
    typealias Bits = SIMD16<UInt32>

    @inline(__always)
    static func bits(_ v: Vector) -> Bits { unsafeBitCast(v, to: Bits.self) }

    @inline(__always)
    static func float(_ b: Bits) -> Vector { unsafeBitCast(b, to: Vector.self) }

    /// |x| in every lane, by clearing the sign bit.
    @inline(__always)
    static func magnitude(_ x: Vector) -> Vector { float(bits(x) & 0x7FFF_FFFF) }

    /// e^x for x <= 88.7; results below the smallest subnormal are 0, NaN stays NaN.
    @inline(__always)
    static func exp(_ x: Vector) -> Vector {
        // Below -104 the result rounds to 0 anyway; the clamp keeps the exponent arithmetic in range.
        let x = x.replacing(with: -104, where: x .< -104)
        // n = round(x / ln 2) by the 1.5 * 2^23 trick: the sum's low mantissa bits hold n as an integer.
        let shifter: Float = 0x1.8p23
        let shifted = x * 1.442_695_04 + shifter
        let n = shifted - shifter
        // r = x - n ln 2 in two parts (ln 2 = 0.693359375 - 2.12194440e-4) so that n * high is exact.
        let r = x - n * 0.693_359_375 + n * 2.121_944_40e-4
        var p = Vector(repeating: 1.987_569_150_0e-4)
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        let er = p * (r * r) + r + 1
        // 2^n as two factors so that n down to -150 (subnormal results) needs no special case.
        let integer = bits(shifted) &- 0x4B40_0000
        let half = unsafeBitCast(unsafeBitCast(integer, to: SIMD16<Int32>.self) &>> 1, to: Bits.self)
        let scale1 = float((half &+ 127) &<< 23)
        let scale2 = float((integer &- half &+ 127) &<< 23)
        return er * scale1 * scale2
    }

    /// 1 / (1 + e^-x), computed from e^-|x| so that nothing overflows and small results keep their precision.
    @inline(__always)
    static func sigmoid(_ x: Vector) -> Vector {
        let e = exp(float(bits(x) | 0x8000_0000))
        let positive = 1 / (1 + e)
        return positive.replacing(with: e * positive, where: x .< 0)
    }

    /// tanh(x): an odd polynomial below |x| = 0.625, where 1 - e^-2|x| would cancel, and (1 - e)/(1 + e) with
    /// e = e^-2|x| above.
    @inline(__always)
    static func tanh(_ x: Vector) -> Vector {
        let sign = bits(x) & 0x8000_0000
        let a = magnitude(x)
        let z = x * x
        var p = Vector(repeating: -5.704_988_727_45e-3)
        p = p * z + 2.063_908_879_54e-2
        p = p * z - 5.373_971_555_31e-2
        p = p * z + 1.333_144_220_36e-1
        p = p * z - 3.333_328_194_22e-1
        let small = p * z * x + x
        let e = exp(-2 * a)
        let large = float(bits((1 - e) / (1 + e)) | sign)
        return large.replacing(with: small, where: a .< 0.625)
    }
}
