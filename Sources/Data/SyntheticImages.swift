import Engine
import Foundation

/// The deterministic, learnable images of the synthetic packer: class pictures plus noise, keyed by position.
///
/// The class pictures depend only on the shape and the number of classes, not on the seed, so files packed with
/// different seeds (a training and a test split) pose the same task with different samples. Every value is a pure
/// function of (seed, sample index) through Philox, so any sample can be regenerated alone. Philox streams of
/// the seed: 0 labels, 1 + i the noise of sample i.
struct SyntheticImages {
    let shape: [Int]
    let classes: Int
    private let philox: Philox
    /// The key of the class pictures, the same for every seed.
    private static let classKey: UInt64 = 0xC1A5_5E5D_A7A5_0001
    /// Per class and channel, the base brightness in [0.25, 0.75] and the sign of the class's wave in that channel.
    private let base: [Float]
    private let sign: [Float]
    /// Per class, the wave along rows (H values) and along columns (W values), each a cosine of 1 to 3 periods.
    private let rowWave: [Float]
    private let columnWave: [Float]
    /// Amplitudes of the class wave, of the per-sample brightness shift and of the per-pixel uniform noise, in
    /// [0, 1] pixel units. The brightness shift keeps a class's mean brightness from identifying it alone.
    private static let waveAmplitude: Float = 0.2
    private static let shiftAmplitude: Float = 0.2
    private static let noiseAmplitude: Float = 0.3

    init(shape: [Int], classes: Int, seed: UInt64) {
        self.shape = shape
        self.classes = classes
        philox = Philox(seed: seed)
        let classPhilox = Philox(seed: Self.classKey)
        let (channels, height, width) = (shape[0], shape[1], shape[2])
        var base: [Float] = [], sign: [Float] = [], rowWave: [Float] = [], columnWave: [Float] = []
        for label in 0..<classes {
            let index = UInt64(label * (channels + 1))
            let wave = Self.words(classPhilox, stream: 0, index: index)
            let (rowPeriods, columnPeriods) = (Float(1 + wave[0] % 3), Float(1 + wave[1] % 3))
            let (rowPhase, columnPhase) = (2 * Float.pi * Philox.unit(wave[2]), 2 * Float.pi * Philox.unit(wave[3]))
            rowWave += (0..<height).map { cos(2 * Float.pi * rowPeriods * Float($0) / Float(height) + rowPhase) }
            columnWave += (0..<width).map { cos(2 * Float.pi * columnPeriods * Float($0) / Float(width) + columnPhase) }
            for channel in 0..<channels {
                let words = Self.words(classPhilox, stream: 0, index: index + 1 + UInt64(channel))
                base.append(0.25 + 0.5 * Philox.unit(words[0]))
                sign.append(words[1] & 1 == 0 ? 1 : -1)
            }
        }
        self.base = base
        self.sign = sign
        self.rowWave = rowWave
        self.columnWave = columnWave
    }

    /// The class of sample `index`, uniform over the classes (word 0 of the sample's block; word 1 is its shift).
    func label(of index: Int) -> Int32 {
        Int32(Self.words(philox, stream: 0, index: UInt64(index))[0] % UInt32(classes))
    }

    /// Writes sample `index` of class `label` (C x H x W bytes) to `destination`.
    func draw(index: Int, label: Int32, into destination: UnsafeMutablePointer<UInt8>) {
        let (channels, height, width) = (shape[0], shape[1], shape[2])
        let label = Int(label)
        let shift = Self.shiftAmplitude * (2 * Philox.unit(Self.words(philox, stream: 0, index: UInt64(index))[1]) - 1)
        let stream = 1 + UInt64(index)
        // Each Philox block gives 16 noise bytes; keep the current block's bytes and refill every 16 pixels.
        var noise = SIMD16<UInt8>()
        var pixel = 0
        for channel in 0..<channels {
            let level = base[label * channels + channel] + shift
            let amplitude = Self.waveAmplitude * sign[label * channels + channel]
            for y in 0..<height {
                let row = amplitude * rowWave[label * height + y]
                for x in 0..<width {
                    if pixel % 16 == 0 {
                        noise = unsafeBitCast(Self.words(philox, stream: stream, index: UInt64(pixel / 16)),
                                              to: SIMD16<UInt8>.self)
                    }
                    let jitter = Self.noiseAmplitude * (Float(noise[pixel % 16]) / 127.5 - 1)
                    let value = level + row * columnWave[label * width + x] + jitter
                    destination[pixel] = UInt8((min(max(value, 0), 1) * 255).rounded())
                    pixel += 1
                }
            }
        }
    }

    /// The four words of block `index` of `stream`.
    private static func words(_ philox: Philox, stream: UInt64, index: UInt64) -> SIMD4<UInt32> {
        philox.block(SIMD4(UInt32(truncatingIfNeeded: index), UInt32(truncatingIfNeeded: index >> 32),
                           UInt32(truncatingIfNeeded: stream), UInt32(truncatingIfNeeded: stream >> 32)))
    }
}
