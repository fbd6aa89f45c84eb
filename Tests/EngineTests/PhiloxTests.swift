import Engine
import Testing

@Suite struct PhiloxTests {
    // Known-answer vectors of Philox4x32-10 from the Random123 distribution (kat_vectors).
    @Test(arguments: [
        (SIMD4<UInt32>(0, 0, 0, 0), UInt64(0), SIMD4<UInt32>(0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8)),
        (SIMD4<UInt32>(repeating: 0xffff_ffff), UInt64.max,
         SIMD4<UInt32>(0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd)),
        (SIMD4<UInt32>(0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344), UInt64(0x299f_31d0_a409_3822),
         SIMD4<UInt32>(0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1)),
    ])
    func knownAnswers(counter: SIMD4<UInt32>, seed: UInt64, expected: SIMD4<UInt32>) {
        #expect(Philox(seed: seed).block(counter) == expected)
    }

    @Test func drawsArePureFunctionsOfTheirCoordinates() {
        let philox = Philox(seed: 42)
        var filled = [Float](repeating: 0, count: 37)
        philox.fillUniform(&filled, count: 37, stream: 7, start: 5)
        for i in 0..<37 {
            #expect(filled[i] == philox.uniform(stream: 7, index: UInt64(5 + i)))
        }
        #expect(philox.uniform(stream: 7, index: 5) != philox.uniform(stream: 8, index: 5))
        #expect(Philox(seed: 43).uniform(stream: 7, index: 5) != philox.uniform(stream: 7, index: 5))
    }

    @Test func uniformAndNormalMomentsAreRight() {
        let philox = Philox(seed: 1)
        let n = 200_000
        var u = [Float](repeating: 0, count: n), z = [Float](repeating: 0, count: n)
        philox.fillUniform(&u, count: n, stream: 0)
        philox.fillNormal(&z, count: n, stream: 1)
        let uMean = u.reduce(0.0) { $0 + Double($1) } / Double(n)
        let zMean = z.reduce(0.0) { $0 + Double($1) } / Double(n)
        let zVar = z.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(n) - zMean * zMean
        #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(abs(uMean - 0.5) < 0.005)
        #expect(abs(zMean) < 0.01)
        #expect(abs(zVar - 1) < 0.01)
    }
}
