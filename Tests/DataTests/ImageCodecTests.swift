import Data
import Foundation
import Testing

/// The codec and the resampler against Pillow (Tests/References/images.py): decodes of JPEG and PNG files and
/// bilinear resizes, pixel for pixel.
@Suite struct ImageCodecTests {
    static func bytes(_ base64: String) -> [UInt8] { Array(Data(base64Encoded: base64)!) }

    static let source = RGBImage(width: ImageReferences.width, height: ImageReferences.height,
                                 pixels: bytes(ImageReferences.pixels))

    /// The largest difference between two equally long byte arrays.
    static func maxDifference(_ a: [UInt8], _ b: [UInt8]) -> Int {
        precondition(a.count == b.count)
        return zip(a, b).reduce(0) { max($0, abs(Int($1.0) - Int($1.1))) }
    }

    func decode(_ base64: String, minimumShorterSide: Int? = nil) throws -> RGBImage {
        try Self.bytes(base64).withUnsafeBytes { try ImageCodec().decode($0, minimumShorterSide: minimumShorterSide) }
    }

    @Test(arguments: [
        ("JPEG", ImageReferences.jpegBase64, ImageReferences.jpegDecoded),
        ("grey JPEG", ImageReferences.greyJPEGBase64, ImageReferences.greyJPEGDecoded),
        ("RGBA PNG", ImageReferences.rgbaPNGBase64, ImageReferences.rgbaPNGDecoded),
        ("palette PNG", ImageReferences.palettePNGBase64, ImageReferences.palettePNGDecoded),
    ])
    func decodesAsPillowDoes(kind: String, file: String, expected: String) throws {
        let image = try decode(file)
        #expect(image.width == ImageReferences.width && image.height == ImageReferences.height, "\(kind)")
        let difference = Self.maxDifference(image.pixels, Self.bytes(expected))
        print("\(kind): largest difference from Pillow's decode \(difference)")
        #expect(difference == 0, "\(kind)")
    }

    @Test func headerGivesTheSizeWithoutDecoding() throws {
        for file in [ImageReferences.jpegBase64, ImageReferences.rgbaPNGBase64] {
            let size = try Self.bytes(file).withUnsafeBytes { try ImageCodec().size(of: $0) }
            #expect(size.width == 37 && size.height == 23)
        }
    }

    @Test func jpegDecodesAtTheSmallestScaleThatCoversTheRequest() throws {
        // 37x23 at the libjpeg-turbo scales: 1/2 gives 19x12, 3/8 gives 14x9, 1/4 gives 10x6.
        #expect(try decode(ImageReferences.jpegBase64, minimumShorterSide: 12).width == 19)
        #expect(try decode(ImageReferences.jpegBase64, minimumShorterSide: 9).height == 9)
        #expect(try decode(ImageReferences.jpegBase64, minimumShorterSide: 6).width == 10)
        #expect(try decode(ImageReferences.jpegBase64, minimumShorterSide: 23).width == 37)
        // PNGs have no reduced decode: always full size.
        #expect(try decode(ImageReferences.rgbaPNGBase64, minimumShorterSide: 6).width == 37)
    }

    @Test(arguments: ImageReferences.resized.indices)
    func resizesAsPillowsBilinearFilterDoes(index: Int) {
        let reference = ImageReferences.resized[index]
        let resized = ImageResampler.resize(Self.source, width: reference.width, height: reference.height)
        #expect(resized.width == reference.width && resized.height == reference.height)
        let difference = Self.maxDifference(resized.pixels, Self.bytes(reference.pixels))
        #expect(difference == 0, "\(reference.width)x\(reference.height): largest difference \(difference)")
    }

    @Test func encodedJPEGDecodesCloseToTheOriginal() throws {
        // A smooth picture (the reference image's pattern changes too fast for 4:2:0 chroma to keep).
        let (width, height) = (64, 48)
        let smooth = RGBImage(width: width, height: height, pixels: (0..<(width * height)).flatMap { i -> [UInt8] in
            let (x, y) = (i % width, i / width)
            return [UInt8(4 * x), UInt8(5 * y), UInt8(100 + x + y)]
        })
        let codec = ImageCodec()
        let encoded = try codec.encodeJPEG(smooth, quality: 95)
        let decoded = try encoded.withUnsafeBytes { try codec.decode($0) }
        #expect(decoded.width == width && decoded.height == height)
        #expect(Self.maxDifference(decoded.pixels, smooth.pixels) <= 6)
    }

    @Test func otherFilesAreRefusedWithTheReason() throws {
        let notAnImage = Array("GIF89a, not a JPEG".utf8)
        let error = #expect(throws: ImageCodec.Failure.self) {
            try notAnImage.withUnsafeBytes { try ImageCodec().decode($0) }
        }
        #expect(error?.description == "neither a JPEG nor a PNG file (unknown signature)")
        var truncated = Self.bytes(ImageReferences.jpegBase64)
        truncated.removeLast(truncated.count / 2)
        #expect(throws: ImageCodec.Failure.self) { try truncated.withUnsafeBytes { try ImageCodec().decode($0) } }
    }
}
