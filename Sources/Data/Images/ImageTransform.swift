import Engine
import Foundation

/// How one encoded image becomes a network input: a normalised [C, size, size] float image, C the number of
/// channels the normalisation has (3, or 1 for a file of grey images, which reads the decoded image's first
/// channel: grey decodes to equal R, G and B).
///
/// Training crops with torchvision's RandomResizedCrop (scale 0.08-1, ratio 3/4-4/3) and flips with probability
/// one half, every draw taken from Philox keyed by (seed, epoch, image index), so a resumed or re-sharded run
/// sees the same crops. Evaluation resizes the shorter side to `resize` and takes the centre. Both decode a JPEG
/// at the smallest DCT scale that still gives the crop `size` pixels, and resize with Pillow's bilinear filter.
public struct ImageTransform: Sendable {
    /// The two pipelines.
    public enum Kind: Sendable, Equatable {
        /// RandomResizedCrop to `size`, then a random horizontal flip.
        case randomResizedCrop
        /// Resize of the shorter side to `resize`, then a centre crop of `size`.
        case resizeCenterCrop(resize: Int)
    }

    public let kind: Kind
    /// The side of the square output.
    public let size: Int
    /// The run's seed.
    public let seed: UInt64
    /// Per-channel normalisation: (pixel / 255 - mean) / std; one value each for grey images, three for RGB.
    public let mean: [Double], std: [Double]

    public init(kind: Kind, size: Int, seed: UInt64, mean: [Double], std: [Double]) {
        (self.kind, self.size, self.seed, self.mean, self.std) = (kind, size, seed, mean, std)
    }

    /// The output shape.
    public var outputShape: [Int] { [mean.count, size, size] }

    /// Philox stream of the crop draws of `epoch` (the high word tells them from dropout's and the sampler's).
    static func stream(epoch: Int) -> UInt64 { 0xC0_0000 << 32 | UInt64(epoch) }
    /// Draws per image: two per RandomResizedCrop attempt, and the flip.
    static let drawsPerImage = 32

    /// The crop box and flip of image `index` of `width` x `height` in `epoch`, as training draws them.
    public func trainingCrop(width: Int, height: Int, index: Int, epoch: Int) -> (box: CropBox, flip: Bool) {
        let philox = Philox(seed: seed)
        let stream = Self.stream(epoch: epoch), base = UInt64(index) * UInt64(Self.drawsPerImage)
        let box = CropBox.randomResized(
            width: width, height: height,
            uniform: { philox.uniform(stream: stream, index: base + UInt64($0)) },
            integer: { philox.integer(below: $1, stream: stream, index: base + 20 + UInt64($0)) })
        return (box, philox.uniform(stream: stream, index: base + 31) < 0.5)
    }

    /// Decodes `bytes` (an image of `width` x `height`) and writes its input for `epoch` to `destination`.
    public func apply(_ bytes: UnsafeRawBufferPointer, width: Int, height: Int, index: Int, epoch: Int,
                      codec: ImageCodec, into destination: UnsafeMutablePointer<Float>) throws(ImageCodec.Failure) {
        let shorter = min(width, height)
        switch kind {
        case .randomResizedCrop:
            let (box, flip) = trainingCrop(width: width, height: height, index: index, epoch: epoch)
            // The box's shorter side must keep `size` pixels in the decoded image.
            let needed = Int((Double(shorter) * Double(size) / Double(min(box.width, box.height))).rounded(.up))
            let decoded = try codec.decode(bytes, minimumShorterSide: min(needed, shorter))
            let (sx, sy) = (Double(decoded.width) / Double(width), Double(decoded.height) / Double(height))
            let left = min(decoded.width - 1, Int(Double(box.left) * sx))
            let top = min(decoded.height - 1, Int(Double(box.top) * sy))
            let right = max(left + 1, min(decoded.width, Int((Double(box.left + box.width) * sx).rounded(.up))))
            let bottom = max(top + 1, min(decoded.height, Int((Double(box.top + box.height) * sy).rounded(.up))))
            let cropped = Self.crop(decoded, CropBox(top: top, left: left, height: bottom - top, width: right - left))
            normalize(ImageResampler.resize(cropped, width: size, height: size), flip: flip, into: destination)
        case .resizeCenterCrop(let resize):
            let target = CropBox.resizedShorterSide(width: width, height: height, to: resize)
            let decoded = try codec.decode(bytes, minimumShorterSide: min(resize, shorter))
            let resized = decoded.width == target.width && decoded.height == target.height ? decoded
                : ImageResampler.resize(decoded, width: target.width, height: target.height)
            let box = CropBox.centered(width: target.width, height: target.height, size: size)
            normalize(Self.crop(resized, box), flip: false, into: destination)
        }
    }

    static func crop(_ image: RGBImage, _ box: CropBox) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: box.width * box.height * 3)
        image.pixels.withUnsafeBufferPointer { from in
            pixels.withUnsafeMutableBufferPointer { to in
                for row in 0..<box.height {
                    let start = ((box.top + row) * image.width + box.left) * 3
                    (to.baseAddress! + row * box.width * 3).update(from: from.baseAddress! + start, count: box.width * 3)
                }
            }
        }
        return RGBImage(width: box.width, height: box.height, pixels: pixels)
    }

    /// Interleaved RGB bytes to normalised planar floats, mirrored left to right when `flip`.
    private func normalize(_ image: RGBImage, flip: Bool, into destination: UnsafeMutablePointer<Float>) {
        precondition(image.width == size && image.height == size, "ImageTransform: \(image.width)x\(image.height)")
        let plane = size * size
        let channels = mean.count
        let scale = (0..<channels).map { Float(1 / (255 * std[$0])) }, shift = (0..<channels).map { Float(-mean[$0] / std[$0]) }
        image.pixels.withUnsafeBufferPointer { pixels in
            for y in 0..<size {
                for x in 0..<size {
                    let from = (y * size + (flip ? size - 1 - x : x)) * 3, to = y * size + x
                    for c in 0..<channels { destination[c * plane + to] = Float(pixels[from + c]) * scale[c] + shift[c] }
                }
            }
        }
    }
}
