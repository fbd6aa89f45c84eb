import CZlib
import Data
import Foundation
import Testing

/// Photographs (Tests/References/photos/) decoded by the codec and the evaluation transform against Pillow's
/// decodes and torchvision's transform of them (Tests/References/photos.py): the largest pixel difference per case.
///
/// Pillow 13 bundles libjpeg-turbo 3.2, dtrain links Debian's 2.1.5; both decode with the accurate integer IDCT
/// and fancy (triangle) chroma upsampling, which have not changed between them, so full-size and DCT-scaled
/// decodes agree exactly. The evaluation transform differs by design: it decodes at the smallest DCT scale that
/// still covers the resize (5/8 for 427 rows resized to 256, 3/8 for 128), where torchvision resizes the full
/// decode. DCT scaling drops the high frequencies outright where the bilinear filter only attenuates them, so the
/// picture is sharper: Pillow's own draft(1/2) decode resized to 128 is 1.6-2.4 levels from its full decode
/// resized, 41-46 at worst, on these photographs.
@Suite struct PhotoDecodeTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("References/photos")

    /// Bounds on the evaluation transform's difference from torchvision's on these photographs, by resize: (mean,
    /// largest). Seen: means 1.06-2.78 and largest 33-39 for Resize(256) + CenterCrop(224); 3.5-5.0 and 76-97
    /// (single pixels at sharp edges) for Resize(128) + CenterCrop(112), which decodes at 3/8. A crop one pixel off
    /// gives means of 5.6-9.3, a resize 8 pixels off 11-18.
    static let evaluationTolerances: [Int: (mean: Double, largest: Int)] = [256: (3.5, 50), 128: (6, 110)]

    static func photo(_ name: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: folder.appendingPathComponent(name)))
    }

    /// The pixels of a reference file written by photos.py: zlib-compressed rows, each but the first stored as
    /// its difference from the row above.
    static func referencePixels(_ name: String, width: Int, height: Int) throws -> [UInt8] {
        let compressed = try [UInt8](Data(contentsOf: folder.appendingPathComponent("pillow/" + name)))
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        var length = UInt(pixels.count)
        let status = pixels.withUnsafeMutableBufferPointer { output in
            compressed.withUnsafeBufferPointer { input in
                uncompress(output.baseAddress, &length, input.baseAddress, UInt(input.count))
            }
        }
        try #require(status == Z_OK && length == UInt(pixels.count), "\(name): zlib status \(status), \(length) bytes")
        let rowBytes = width * 3
        for i in rowBytes..<pixels.count { pixels[i] &+= pixels[i - rowBytes] }
        return pixels
    }

    /// The largest and the mean absolute difference of two equally long byte arrays.
    static func differences(_ a: [UInt8], _ b: [UInt8]) -> (largest: Int, mean: Double) {
        precondition(a.count == b.count)
        var largest = 0, total = 0
        for (x, y) in zip(a, b) {
            let d = abs(Int(x) - Int(y))
            largest = max(largest, d)
            total += d
        }
        return (largest, Double(total) / Double(a.count))
    }

    @Test(arguments: PhotoReferences.decodes.indices)
    func decodesAsPillowDoes(index: Int) throws {
        let reference = PhotoReferences.decodes[index]
        let bytes = try Self.photo(reference.photo)
        let codec = ImageCodec()
        let size = try bytes.withUnsafeBytes { try codec.size(of: $0) }
        // The smallest DCT scale whose shorter side covers the reference's is the reference's own.
        let shorter = (min(size.width, size.height) + reference.scale - 1) / reference.scale
        let image = try bytes.withUnsafeBytes { try codec.decode($0, minimumShorterSide: shorter) }
        try #require(image.width == reference.width && image.height == reference.height,
                     "\(reference.photo) 1/\(reference.scale): \(image.width)x\(image.height)")
        let expected = try Self.referencePixels(reference.pixels, width: reference.width, height: reference.height)
        let (largest, mean) = Self.differences(image.pixels, expected)
        print(String(format: "%@ at 1/%d (%dx%d): largest difference from Pillow's decode %d, mean %.4f",
                     reference.photo, reference.scale, image.width, image.height, largest, mean))
        #expect(largest == 0, "\(reference.photo) at 1/\(reference.scale)")
    }

    @Test(arguments: PhotoReferences.evaluations.indices)
    func evaluationTransformIsCloseToTorchvisions(index: Int) throws {
        let reference = PhotoReferences.evaluations[index]
        let bytes = try Self.photo(reference.photo)
        let expected = try Self.referencePixels(reference.pixels, width: reference.size, height: reference.size)
        let codec = ImageCodec()
        let size = try bytes.withUnsafeBytes { try codec.size(of: $0) }

        // The resampler and the crop alone, on the full decode: torchvision's arithmetic, exactly.
        let full = try bytes.withUnsafeBytes { try codec.decode($0) }
        let target = CropBox.resizedShorterSide(width: size.width, height: size.height, to: reference.resize)
        let resized = ImageResampler.resize(full, width: target.width, height: target.height)
        let box = CropBox.centered(width: target.width, height: target.height, size: reference.size)
        var cropped: [UInt8] = []
        for row in box.top..<(box.top + box.height) {
            let start = (row * resized.width + box.left) * 3
            cropped += resized.pixels[start..<(start + box.width * 3)]
        }
        let exact = Self.differences(cropped, expected)
        #expect(exact.largest == 0, "\(reference.photo) resized from the full decode")

        // The transform evaluation runs, through a DCT-scaled decode; mean 0 and std 1/255 give back the pixels.
        let transform = ImageTransform(kind: .resizeCenterCrop(resize: reference.resize), size: reference.size, seed: 0,
                                       mean: [0, 0, 0], std: [1.0 / 255, 1.0 / 255, 1.0 / 255])
        var planes = [Float](repeating: 0, count: 3 * reference.size * reference.size)
        try bytes.withUnsafeBytes { bytes in
            try planes.withUnsafeMutableBufferPointer { output in
                try transform.apply(bytes, width: size.width, height: size.height, index: 0, epoch: 0, codec: codec,
                                    into: output.baseAddress!)
            }
        }
        let plane = reference.size * reference.size
        let interleaved = (0..<(3 * plane)).map { i in UInt8(planes[(i % 3) * plane + i / 3].rounded()) }
        let scaled = Self.differences(interleaved, expected)
        print(String(format: "%@ Resize(%d) + CenterCrop(%d): largest difference from torchvision's %d from the "
                     + "full decode, %d (mean %.4f) through the DCT-scaled decode", reference.photo, reference.resize,
                     reference.size, exact.largest, scaled.largest, scaled.mean))
        let tolerance = try #require(Self.evaluationTolerances[reference.resize])
        #expect(scaled.mean <= tolerance.mean && scaled.largest <= tolerance.largest,
                "\(reference.photo) Resize(\(reference.resize)) + CenterCrop(\(reference.size))")
    }
}
