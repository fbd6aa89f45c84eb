import Engine
import Foundation

/// A rectangle of an image, in pixels: rows `top ..< top + height`, columns `left ..< left + width`.
public struct CropBox: Sendable, Equatable, CustomStringConvertible {
    public var top: Int, left: Int, height: Int, width: Int

    public init(top: Int, left: Int, height: Int, width: Int) {
        (self.top, self.left, self.height, self.width) = (top, left, height, width)
    }

    public var description: String { "(top \(top), left \(left), \(height)x\(width))" }

    /// torchvision's `RandomResizedCrop.get_params`: up to ten tries at a box of a random share `scale` of the
    /// image's area and a random aspect ratio (log-uniform in `ratio`), placed at random; if none fits, the largest
    /// central box whose aspect ratio is within `ratio`.
    ///
    /// `uniform(k)` gives the k-th uniform value in [0, 1) of this image (float32, as torch's uniform_ draws) and
    /// `integer(k, bound)` the k-th integer in 0 ..< bound; the arithmetic is torchvision's, float32 where its
    /// tensors are float32 and float64 where it uses Python floats, rounding half to even as Python's round() does.
    public static func randomResized(
        width: Int, height: Int, scale: ClosedRange<Double> = 0.08...1, ratio: ClosedRange<Double> = 0.75...(4.0 / 3),
        uniform: (Int) -> Float, integer: (Int, Int) -> Int
    ) -> CropBox {
        let area = Double(width * height)
        let (scaleLow, scaleHigh) = (Float(scale.lowerBound), Float(scale.upperBound))
        // torch.log of a float32 tensor of the ratio bounds.
        let (logLow, logHigh) = (Foundation.log(Float(ratio.lowerBound)), Foundation.log(Float(ratio.upperBound)))
        for attempt in 0..<10 {
            let share = uniform(2 * attempt) * (scaleHigh - scaleLow) + scaleLow
            let targetArea = area * Double(share)
            let aspect = Double(Foundation.exp(uniform(2 * attempt + 1) * (logHigh - logLow) + logLow))
            let w = Int((targetArea * aspect).squareRoot().rounded(.toNearestOrEven))
            let h = Int((targetArea / aspect).squareRoot().rounded(.toNearestOrEven))
            if w > 0, w <= width, h > 0, h <= height {
                let top = integer(2 * attempt, height - h + 1), left = integer(2 * attempt + 1, width - w + 1)
                return CropBox(top: top, left: left, height: h, width: w)
            }
        }
        let inputRatio = Double(width) / Double(height)
        var (w, h) = (width, height)
        if inputRatio < ratio.lowerBound {
            h = Int((Double(w) / ratio.lowerBound).rounded(.toNearestOrEven))
        } else if inputRatio > ratio.upperBound {
            w = Int((Double(h) * ratio.upperBound).rounded(.toNearestOrEven))
        }
        return CropBox(top: (height - h) / 2, left: (width - w) / 2, height: h, width: w)
    }

    /// torchvision's `CenterCrop(size)` of an image of `width` x `height` (at least `size` on both sides): the
    /// offsets rounded half to even, as `F.center_crop` does.
    public static func centered(width: Int, height: Int, size: Int) -> CropBox {
        let top = Int((Double(height - size) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(width - size) / 2).rounded(.toNearestOrEven))
        return CropBox(top: top, left: left, height: size, width: size)
    }

    /// The size torchvision's `Resize(length)` gives an image of `width` x `height`: the shorter side `length`, the
    /// longer one scaled and truncated.
    public static func resizedShorterSide(width: Int, height: Int, to length: Int) -> (width: Int, height: Int) {
        width <= height ? (length, Int(Double(length) * Double(height) / Double(width)))
            : (Int(Double(length) * Double(width) / Double(height)), length)
    }
}
