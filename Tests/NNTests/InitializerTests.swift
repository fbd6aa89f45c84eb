import Engine
import NN
import Testing

@Suite struct InitializerTests {
    /// The seed's example: Glorot uniform from 120 to 84 has bound sqrt(6) / sqrt(204) = 0.171499.
    @Test func glorotBound() {
        guard case .uniform(let bound) = Initializer.glorotUniform(fanIn: 120, fanOut: 84) else {
            Issue.record("Glorot uniform is not a uniform initializer")
            return
        }
        #expect(abs(bound - 0.171499) < 1e-6)
        let tensor = Tensor(zeros: [84, 120])
        Initializer.glorotUniform(fanIn: 120, fanOut: 84).fill(tensor, seed: 1, stream: 0)
        #expect(tensor.scalars.allSatisfy { abs($0) <= bound })
        #expect(tensor.scalars.map(abs).max()! > 0.95 * bound)
    }

    @Test func heNormalAndUniformScales() {
        let normal = Tensor(zeros: [100_000]), uniform = Tensor(zeros: [100_000])
        Initializer.heNormal(fan: 50).fill(normal, seed: 2, stream: 0)
        Initializer.heUniform(fan: 50).fill(uniform, seed: 2, stream: 1)
        // Both have variance 2 / fan.
        for tensor in [normal, uniform] {
            let variance = tensor.scalars.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(tensor.count)
            #expect(abs(variance / (2.0 / 50) - 1) < 0.02)
        }
        #expect(uniform.scalars.allSatisfy { abs($0) <= (6.0 / 50).squareRoot() })
    }
}
