import CPNG
import CTurboJPEG
import Foundation

/// JPEG (libjpeg-turbo) and PNG (libpng) files to RGB images and back.
///
/// JPEGs decode with DCT-domain scaling: a decode that needs only `minimumShorterSide` pixels on the shorter side
/// asks libjpeg-turbo for the smallest of its scale factors (1/8 ... 1) that still gives that many, which skips most
/// of the inverse-DCT work for images much larger than the crop. Grey and CMYK JPEGs, and grey, palette and alpha
/// PNGs, become RGB (alpha dropped), as Pillow's `convert("RGB")` does. Not thread-safe: one instance per thread.
public final class ImageCodec {
    /// The kinds of file the codec reads, told apart by their first bytes.
    public enum Format: String, Sendable {
        case jpeg = "JPEG", png = "PNG"

        /// The format whose signature `bytes` start with, if any.
        public init?(signatureOf bytes: UnsafeRawBufferPointer) {
            if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF {
                self = .jpeg
            } else if bytes.count >= 8, Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] {
                self = .png
            } else {
                return nil
            }
        }
    }

    /// Why a file could not be decoded or encoded.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    private let decompressor: tjhandle
    private let compressor: tjhandle

    public init() {
        decompressor = tjInitDecompress()
        compressor = tjInitCompress()
    }

    deinit {
        tjDestroy(decompressor)
        tjDestroy(compressor)
    }

    /// The width and height stored in the file's header, without decoding the pixels.
    public func size(of bytes: UnsafeRawBufferPointer) throws(Failure) -> (width: Int, height: Int) {
        switch Format(signatureOf: bytes) {
        case .jpeg: return try jpegHeader(bytes).size
        case .png:
            var image = png_image()
            try beginPNG(&image, bytes)
            defer { png_image_free(&image) }
            return (Int(image.width), Int(image.height))
        case nil: throw Failure(description: "neither a JPEG nor a PNG file (unknown signature)")
        }
    }

    /// Decodes a JPEG or PNG file; a JPEG is decoded at the smallest DCT scale whose shorter side is still at least
    /// `minimumShorterSide` (nil: full size).
    public func decode(_ bytes: UnsafeRawBufferPointer, minimumShorterSide: Int? = nil) throws(Failure) -> RGBImage {
        switch Format(signatureOf: bytes) {
        case .jpeg: return try decodeJPEG(bytes, minimumShorterSide: minimumShorterSide)
        case .png: return try decodePNG(bytes)
        case nil: throw Failure(description: "neither a JPEG nor a PNG file (unknown signature)")
        }
    }

    /// Encodes `image` as a baseline JPEG of `quality` (1-100) with 4:2:0 chroma subsampling.
    public func encodeJPEG(_ image: RGBImage, quality: Int = 90) throws(Failure) -> [UInt8] {
        var output: UnsafeMutablePointer<UInt8>?
        var length: UInt = 0
        let result = image.pixels.withUnsafeBufferPointer { pixels in
            tjCompress2(compressor, pixels.baseAddress, Int32(image.width), 0, Int32(image.height), Int32(TJPF_RGB.rawValue),
                        &output, &length, Int32(TJSAMP_420.rawValue), Int32(quality), 0)
        }
        defer { tjFree(output) }
        guard result == 0, let output else { throw failure(compressor, "encoding a JPEG") }
        return Array(UnsafeBufferPointer(start: output, count: Int(length)))
    }

    private func jpegHeader(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> (size: (width: Int, height: Int), subsampling: Int32) {
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let result = tjDecompressHeader3(decompressor, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                         UInt(bytes.count), &width, &height, &subsampling, &colorspace)
        guard result == 0 else { throw failure(decompressor, "reading the JPEG header") }
        return ((Int(width), Int(height)), subsampling)
    }

    private func decodeJPEG(_ bytes: UnsafeRawBufferPointer, minimumShorterSide: Int?) throws(Failure) -> RGBImage {
        let (size, _) = try jpegHeader(bytes)
        var scale = tjscalingfactor(num: 1, denom: 1)
        if let minimumShorterSide {
            // The factors come largest first; keep the last (smallest) that still covers the requested side.
            var count: Int32 = 0
            if let factors = tjGetScalingFactors(&count) {
                for factor in UnsafeBufferPointer(start: factors, count: Int(count)) where factor.num <= factor.denom {
                    let shorter = Int(min(dtrain_tj_scaled(Int32(size.width), factor), dtrain_tj_scaled(Int32(size.height), factor)))
                    if shorter >= minimumShorterSide, Double(factor.num) / Double(factor.denom) < Double(scale.num) / Double(scale.denom) {
                        scale = factor
                    }
                }
            }
        }
        let width = Int(dtrain_tj_scaled(Int32(size.width), scale)), height = Int(dtrain_tj_scaled(Int32(size.height), scale))
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        // Accurate DCT: the integer "fast" one differs from Pillow's (libjpeg's default, islow) by several levels.
        let result = pixels.withUnsafeMutableBufferPointer { destination in
            tjDecompress2(decompressor, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt(bytes.count),
                          destination.baseAddress, Int32(width), 0, Int32(height), Int32(TJPF_RGB.rawValue),
                          TJFLAG_ACCURATEDCT)
        }
        guard result == 0 else { throw failure(decompressor, "decoding the JPEG") }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Reads the header into `image`, which must stay where it is until freed: libpng's error handling keeps its
    /// address, so a copy of a begun `png_image` must never be used.
    private func beginPNG(_ image: inout png_image, _ bytes: UnsafeRawBufferPointer) throws(Failure) {
        image.version = dtrain_png_image_version()
        guard png_image_begin_read_from_memory(&image, bytes.baseAddress, bytes.count) != 0 else {
            let message = Self.pngMessage(image)
            png_image_free(&image)
            throw Failure(description: "reading the PNG header: \(message)")
        }
    }

    private func decodePNG(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> RGBImage {
        var image = png_image()
        try beginPNG(&image, bytes)
        defer { png_image_free(&image) }
        // Read with alpha and drop it, as Pillow's convert("RGB") does (libpng would composite onto a background).
        image.format = dtrain_png_format_rgba()
        let (width, height) = (Int(image.width), Int(image.height))
        guard width > 0, height > 0 else { throw Failure(description: "the PNG has no pixels") }
        var rgba = [UInt8](repeating: 0, count: width * height * 4)
        let finished = rgba.withUnsafeMutableBytes { destination in
            png_image_finish_read(&image, nil, destination.baseAddress, Int32(width * 4), nil)
        }
        guard finished != 0 else { throw Failure(description: "decoding the PNG: \(Self.pngMessage(image))") }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            pixels[3 * i] = rgba[4 * i]
            pixels[3 * i + 1] = rgba[4 * i + 1]
            pixels[3 * i + 2] = rgba[4 * i + 2]
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    private static func pngMessage(_ image: png_image) -> String {
        var message = image.message
        return withUnsafeBytes(of: &message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    private func failure(_ handle: tjhandle, _ operation: String) -> Failure {
        Failure(description: "\(operation): \(String(cString: tjGetErrorStr2(handle)))")
    }
}
