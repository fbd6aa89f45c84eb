/// Unfolding of an image into the matrix of its sliding windows, and the adjoint fold, so that a convolution becomes
/// one GEMM.
public enum Im2col {
    /// Unfolds one image into the columns of its windows, with zeros where a window covers padding.
    ///
    /// Row (c, ki, kj) of `columns` holds, for every output position, the input element under kernel tap (ki, kj) of
    /// channel c.
    public static func im2col(image: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                              geometry: WindowGeometry, columns: UnsafeMutablePointer<Float>) {
        // image is (C,H,W), columns is (C*kh*kw, oH*oW)
        let (outHeight, outWidth) = geometry.outputSize(height: height, width: width)
        var row = columns
        for c in 0..<channels {
            let plane = image + c * height * width
            for ki in 0..<geometry.kernelHeight {
                for kj in 0..<geometry.kernelWidth {
                    // The output columns whose tap lands inside the input: the rest of each output row is padding.
                    let (first, end) = validRange(tap: kj, input: width, output: outWidth,
                                                  stride: geometry.strideWidth, padding: geometry.paddingWidth)
                    for oh in 0..<outHeight {
                        let destination = row + oh * outWidth
                        let ih = oh * geometry.strideHeight - geometry.paddingHeight + ki
                        guard ih >= 0 && ih < height, first < end else {
                            destination.update(repeating: 0, count: outWidth)
                            continue
                        }
                        destination.update(repeating: 0, count: first)
                        let source = plane + ih * width + first * geometry.strideWidth - geometry.paddingWidth + kj
                        if geometry.strideWidth == 1 {
                            (destination + first).update(from: source, count: end - first)
                        } else {
                            for ow in 0..<(end - first) {
                                destination[first + ow] = source[ow * geometry.strideWidth]
                            }
                        }
                        (destination + end).update(repeating: 0, count: outWidth - end)
                    }
                    row += outHeight * outWidth
                }
            }
        }
    }

    /// Adds the columns of windows back into the image they were unfolded from (`image +=`), the adjoint of
    /// `im2col`; entries that fall on padding are dropped. The caller zeroes `image` first when it wants the fold
    /// alone.
    public static func col2im(columns: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                              geometry: WindowGeometry, image: UnsafeMutablePointer<Float>) {
        // columns is (C*kh*kw, oH*oW), image is (C,H,W)
        let (outHeight, outWidth) = geometry.outputSize(height: height, width: width)
        var row = columns
        for c in 0..<channels {
            let plane = image + c * height * width
            for ki in 0..<geometry.kernelHeight {
                for kj in 0..<geometry.kernelWidth {
                    let (first, end) = validRange(tap: kj, input: width, output: outWidth,
                                                  stride: geometry.strideWidth, padding: geometry.paddingWidth)
                    if first < end {
                        for oh in 0..<outHeight {
                            let ih = oh * geometry.strideHeight - geometry.paddingHeight + ki
                            guard ih >= 0 && ih < height else { continue }
                            let source = row + oh * outWidth + first
                            let destination = plane + ih * width + first * geometry.strideWidth
                                - geometry.paddingWidth + kj
                            if geometry.strideWidth == 1 {
                                Elementwise.addInPlace(destination, source, count: end - first)
                            } else {
                                for ow in 0..<(end - first) {
                                    destination[ow * geometry.strideWidth] += source[ow]
                                }
                            }
                        }
                    }
                    row += outHeight * outWidth
                }
            }
        }
    }

    /// The output positions [first, end) along one dimension whose input index o * stride - padding + tap lies in
    /// [0, input).
    @inline(__always)
    static func validRange(tap: Int, input: Int, output: Int, stride: Int, padding: Int) -> (Int, Int) {
        let offset = tap - padding
        // Smallest o with o * stride + offset >= 0, and smallest o with o * stride + offset >= input.
        let first = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let end = input - offset <= 0 ? 0 : (input - offset + stride - 1) / stride
        return (min(first, output), min(max(end, first), output))
    }
}
