/// An 8-bit RGB image, rows top to bottom, pixels interleaved (R, G, B), as decoders produce and Pillow's
/// `Image.convert("RGB")` holds it.
public struct RGBImage: Sendable, Equatable {
    /// Columns.
    public let width: Int
    /// Rows.
    public let height: Int
    /// height x width x 3 bytes.
    public var pixels: [UInt8]

    /// An image of `width` x `height` with the given pixels (height x width x 3 bytes).
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height * 3,
                     "RGBImage: \(pixels.count) bytes for \(width)x\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The length of the shorter side.
    public var shorterSide: Int { min(width, height) }
}
