/// Unfolding of an image into the matrix of its sliding windows, and the adjoint fold, so that a convolution becomes
/// one GEMM.
public enum Im2col {
    /// Unfolds one image into the columns of its windows, with zeros where a window covers padding.
    ///
    /// Row (c, ki, kj) of `columns` holds, for every output position, the input element under kernel tap (ki, kj) of
    /// channel c. Rows start `rowStride` elements apart (oH*oW when nil), so that the columns of several images can
    /// sit side by side in one matrix and a whole group of images becomes one GEMM.
    public static func im2col(image: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                              geometry: WindowGeometry, columns: UnsafeMutablePointer<Float>, rowStride: Int? = nil) {
        // image is (C,H,W), columns is (C*kh*kw, rowStride) with this image's oH*oW values at the start of each row
        precondition(channels >= 0 && height >= 0 && width >= 0,
                     "Im2col: negative image shape (\(channels),\(height),\(width))")
        let g = geometry
        let (outHeight, outWidth) = g.outputSize(height: height, width: width)
        let rowStride = rowStride ?? outHeight * outWidth
        precondition(rowStride >= outHeight * outWidth,
                     "Im2col: row stride \(rowStride) shorter than the \(outHeight * outWidth) output positions")
        // Per tap, the output rows [top, bottom) and columns [first, end) whose pixels lie inside the image are
        // known in advance: the rows above and below are zeroed in one stretch each, and each valid row is a
        // border of zeros around a copy, with no per-row test.
        var destination = columns
        for c in 0..<channels {
            let plane = image + c * height * width
            for ki in 0..<g.kernelHeight {
                let (top, bottom) = validRange(tap: ki, input: height, output: outHeight, stride: g.strideHeight,
                                               padding: g.paddingHeight)
                for kj in 0..<g.kernelWidth {
                    let (first, end) = validRange(tap: kj, input: width, output: outWidth, stride: g.strideWidth,
                                                  padding: g.paddingWidth)
                    Elementwise.zero(destination, count: top * outWidth)
                    if first < end {
                        for oh in top..<bottom {
                            let row = destination + oh * outWidth
                            let ih = oh * g.strideHeight - g.paddingHeight + ki
                            let source = plane + ih * width + first * g.strideWidth - g.paddingWidth + kj
                            Elementwise.zero(row, count: first)
                            if g.strideWidth == 1 {
                                Elementwise.copy(source, row + first, count: end - first)
                            } else {
                                for ow in 0..<(end - first) { row[first + ow] = source[ow * g.strideWidth] }
                            }
                            Elementwise.zero(row + end, count: outWidth - end)
                        }
                    } else {
                        Elementwise.zero(destination + top * outWidth, count: (bottom - top) * outWidth)
                    }
                    Elementwise.zero(destination + bottom * outWidth, count: (outHeight - bottom) * outWidth)
                    destination += rowStride
                }
            }
        }
    }

    /// Adds the columns of windows back into the image they were unfolded from (`image +=`), the adjoint of
    /// `im2col`; entries that fall on padding are dropped. The caller zeroes `image` first when it wants the fold
    /// alone. `rowStride` is the distance between rows of `columns`, as in `im2col`.
    public static func col2im(columns: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                              geometry: WindowGeometry, image: UnsafeMutablePointer<Float>, rowStride: Int? = nil) {
        // columns is (C*kh*kw, rowStride) with this image's oH*oW values at the start of each row, image is (C,H,W)
        let stride = geometry.strideWidth
        forEachSegment(channels: channels, height: height, width: width, geometry: geometry,
                       rowStride: rowStride) { row, pixel, first, end in
            guard let pixel else { return }
            let source = columns + row + first
            let destination = image + pixel
            if stride == 1 {
                Elementwise.addInPlace(destination, source, count: end - first)
            } else {
                for ow in 0..<(end - first) { destination[ow * stride] += source[ow] }
            }
        }
    }

    /// Visits every output row of every kernel tap (c, ki, kj), in the order of the unfolded matrix.
    ///
    /// `segment` receives the offset of the output row in the columns (matrix rows `rowStride` apart, oH*oW when
    /// nil), the offset in the image of the pixel under
    /// the row's first valid output column (nil when the whole row falls on padding), and the output columns
    /// [first, end) whose pixels lie inside the image.
    @inline(__always)
    static func forEachSegment(channels: Int, height: Int, width: Int, geometry: WindowGeometry, rowStride: Int?,
                               _ segment: (_ row: Int, _ pixel: Int?, _ first: Int, _ end: Int) -> Void) {
        precondition(channels >= 0 && height >= 0 && width >= 0,
                     "Im2col: negative image shape (\(channels),\(height),\(width))")
        let (outHeight, outWidth) = geometry.outputSize(height: height, width: width)
        let rowStride = rowStride ?? outHeight * outWidth
        precondition(rowStride >= outHeight * outWidth,
                     "Im2col: row stride \(rowStride) shorter than the \(outHeight * outWidth) output positions")
        var matrixRow = 0
        for c in 0..<channels {
            for ki in 0..<geometry.kernelHeight {
                for kj in 0..<geometry.kernelWidth {
                    var row = matrixRow * rowStride
                    matrixRow += 1
                    let (first, end) = validRange(tap: kj, input: width, output: outWidth,
                                                  stride: geometry.strideWidth, padding: geometry.paddingWidth)
                    for oh in 0..<outHeight {
                        let ih = oh * geometry.strideHeight - geometry.paddingHeight + ki
                        if ih >= 0 && ih < height && first < end {
                            let iw = first * geometry.strideWidth - geometry.paddingWidth + kj
                            segment(row, (c * height + ih) * width + iw, first, end)
                        } else {
                            segment(row, nil, first, end)
                        }
                        row += outWidth
                    }
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
