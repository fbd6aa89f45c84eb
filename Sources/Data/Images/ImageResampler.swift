/// Resizes RGB images with Pillow's antialiased bilinear filter (`Image.resize(size, Image.BILINEAR)`, what
/// torchvision's Resize and RandomResizedCrop use on PIL images), in Pillow's own fixed-point arithmetic so that
/// results match it pixel for pixel.
///
/// Each output pixel is a triangle-weighted mean of the input pixels under it, the triangle widened by the
/// downscaling factor (that widening is the antialiasing). Rows are resampled first, then columns, each pass
/// rounding to 8 bits, as Pillow does.
public enum ImageResampler {
    /// Fixed-point fraction bits of the weights (Pillow's PRECISION_BITS).
    private static let precisionBits = 32 - 8 - 2

    /// `image` resized to `width` x `height`.
    public static func resize(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        var current = image
        if width != current.width { current = horizontal(current, width: width) }
        if height != current.height { current = vertical(current, height: height) }
        return current
    }

    /// The input range and fixed-point weights of every output position along one axis.
    private struct Coefficients {
        var first: [Int] = [], count: [Int] = []
        var weights: [Int32] = []
        var stride = 0
    }

    private static func coefficients(input: Int, output: Int) -> Coefficients {
        let scale = Double(input) / Double(output)
        let filterScale = max(scale, 1)
        let support = 1.0 * filterScale
        let stride = Int(support.rounded(.up)) * 2 + 1
        var result = Coefficients()
        result.stride = stride
        result.weights = [Int32](repeating: 0, count: output * stride)
        var weights = [Double](repeating: 0, count: stride)
        for position in 0..<output {
            let center = (Double(position) + 0.5) * scale
            // C's (int) conversion truncates toward zero.
            let first = max(Int(center - support + 0.5), 0)
            let count = min(Int(center + support + 0.5), input) - first
            var total = 0.0
            for k in 0..<count {
                let w = max(0, 1 - abs((Double(k + first) - center + 0.5) / filterScale))
                weights[k] = w
                total += w
            }
            for k in 0..<count {
                let normalised = total != 0 ? weights[k] / total : weights[k]
                let fixed = normalised * Double(1 << precisionBits)
                result.weights[position * stride + k] = Int32(fixed < 0 ? fixed - 0.5 : fixed + 0.5)
            }
            result.first.append(first)
            result.count.append(count)
        }
        return result
    }

    @inline(__always)
    private static func clip(_ sum: Int64) -> UInt8 {
        let value = sum >> Int64(precisionBits)
        return UInt8(clamping: value)
    }

    private static func horizontal(_ image: RGBImage, width: Int) -> RGBImage {
        let c = coefficients(input: image.width, output: width)
        var pixels = [UInt8](repeating: 0, count: width * image.height * 3)
        image.pixels.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { destination in
                for y in 0..<image.height {
                    let row = source.baseAddress! + y * image.width * 3
                    for x in 0..<width {
                        var (r, g, b) = (Int64(1) << (precisionBits - 1), Int64(1) << (precisionBits - 1),
                                         Int64(1) << (precisionBits - 1))
                        let first = c.first[x]
                        for k in 0..<c.count[x] {
                            let w = Int64(c.weights[x * c.stride + k]), p = row + (first + k) * 3
                            r += Int64(p[0]) * w
                            g += Int64(p[1]) * w
                            b += Int64(p[2]) * w
                        }
                        let out = (y * width + x) * 3
                        destination[out] = clip(r)
                        destination[out + 1] = clip(g)
                        destination[out + 2] = clip(b)
                    }
                }
            }
        }
        return RGBImage(width: width, height: image.height, pixels: pixels)
    }

    private static func vertical(_ image: RGBImage, height: Int) -> RGBImage {
        let c = coefficients(input: image.height, output: height)
        let rowBytes = image.width * 3
        var pixels = [UInt8](repeating: 0, count: rowBytes * height)
        image.pixels.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { destination in
                var sums = [Int64](repeating: 0, count: rowBytes)
                for y in 0..<height {
                    for i in 0..<rowBytes { sums[i] = Int64(1) << (precisionBits - 1) }
                    for k in 0..<c.count[y] {
                        let w = Int64(c.weights[y * c.stride + k]), row = source.baseAddress! + (c.first[y] + k) * rowBytes
                        for i in 0..<rowBytes { sums[i] += Int64(row[i]) * w }
                    }
                    for i in 0..<rowBytes { destination[y * rowBytes + i] = clip(sums[i]) }
                }
            }
        }
        return RGBImage(width: image.width, height: height, pixels: pixels)
    }
}
