/// Geometry of a 2-D sliding window (convolution or pooling): kernel, stride, zero padding.
public struct WindowGeometry: Sendable, Equatable {
    /// The window's extent along the height.
    public let kernelHeight: Int
    /// The window's extent along the width.
    public let kernelWidth: Int
    /// The step between two windows along the height.
    public let strideHeight: Int
    /// The step between two windows along the width.
    public let strideWidth: Int
    /// The zero padding added above and below the input.
    public let paddingHeight: Int
    /// The zero padding added left and right of the input.
    public let paddingWidth: Int

    /// A square window with the same stride and padding in both dimensions.
    public init(kernel: Int, stride: Int = 1, padding: Int = 0) {
        self.init(kernelHeight: kernel, kernelWidth: kernel, strideHeight: stride, strideWidth: stride,
                  paddingHeight: padding, paddingWidth: padding)
    }

    /// A window with every extent given separately.
    public init(kernelHeight: Int, kernelWidth: Int, strideHeight: Int, strideWidth: Int,
                paddingHeight: Int, paddingWidth: Int) {
        precondition(kernelHeight > 0 && kernelWidth > 0,
                     "WindowGeometry: kernel \(kernelHeight)x\(kernelWidth) must be positive")
        precondition(strideHeight > 0 && strideWidth > 0,
                     "WindowGeometry: stride \(strideHeight)x\(strideWidth) must be positive")
        precondition(paddingHeight >= 0 && paddingWidth >= 0,
                     "WindowGeometry: padding \(paddingHeight)x\(paddingWidth) must not be negative")
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.paddingHeight = paddingHeight
        self.paddingWidth = paddingWidth
    }

    /// The output extent for an input of `height` x `width`: floor((H + 2p - k) / s) + 1 in each dimension.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        let paddedHeight = height + 2 * paddingHeight, paddedWidth = width + 2 * paddingWidth
        precondition(paddedHeight >= kernelHeight && paddedWidth >= kernelWidth,
                     "WindowGeometry: kernel \(kernelHeight)x\(kernelWidth) larger than padded input "
                        + "\(paddedHeight)x\(paddedWidth)")
        return ((paddedHeight - kernelHeight) / strideHeight + 1, (paddedWidth - kernelWidth) / strideWidth + 1)
    }

    /// Whether at least one window fits an input of `height` x `width`, so that `outputSize` is defined.
    public func fits(height: Int, width: Int) -> Bool {
        height + 2 * paddingHeight >= kernelHeight && width + 2 * paddingWidth >= kernelWidth
    }

    /// Whether the window is a plain 1x1, stride 1, no padding (a convolution that is a GEMM on the input).
    public var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideHeight == 1 && strideWidth == 1
            && paddingHeight == 0 && paddingWidth == 0
    }
}
