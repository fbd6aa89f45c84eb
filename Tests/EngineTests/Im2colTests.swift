import Engine
import Testing

@Suite struct Im2colTests {
    @Test(arguments: sweptGeometries)
    func col2imIsTheAdjointOfIm2col(geometry: WindowGeometry) {
        // <col2im(Y), X> == <Y, im2col(X)> for random X and Y, on a non-square image.
        let (channels, height, width) = (3, 9, 11)
        let (oh, ow) = geometry.outputSize(height: height, width: width)
        let rows = channels * geometry.kernelHeight * geometry.kernelWidth
        let x = randomValues(channels * height * width, stream: 1)
        let y = randomValues(rows * oh * ow, stream: 2)
        var columns = [Float](repeating: .nan, count: rows * oh * ow)
        Im2col.im2col(image: x, channels: channels, height: height, width: width, geometry: geometry,
                      columns: &columns)
        var image = [Float](repeating: 0, count: x.count)
        Im2col.col2im(columns: y, channels: channels, height: height, width: width, geometry: geometry, image: &image)
        let left = zip(image, x).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let right = zip(y, columns).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(left - right) <= 1e-4 * max(1, abs(left)), "<col2im(Y), X> = \(left), <Y, im2col(X)> = \(right)")
    }

    @Test func im2colLaysOutWindowsWithZeroPadding() {
        // A 2x3 image, 2x2 kernel, padding 1 and stride 2: output positions (0,0), (0,1), (1,0), (1,1).
        let image: [Float] = [1, 2, 3,
                              4, 5, 6]
        let geometry = WindowGeometry(kernel: 2, stride: 2, padding: 1)
        var columns = [Float](repeating: .nan, count: 4 * 4)
        Im2col.im2col(image: image, channels: 1, height: 2, width: 3, geometry: geometry, columns: &columns)
        // Rows are kernel taps (0,0), (0,1), (1,0), (1,1); each window's top-left sits at (2i-1, 2j-1).
        expectEqual(columns, [0, 0, 0, 5,
                              0, 0, 4, 6,
                              0, 2, 0, 0,
                              1, 3, 0, 0], "columns")
    }

    @Test func col2imAddsIntoTheImage() {
        let geometry = WindowGeometry(kernel: 2)
        let columns = [Float](repeating: 1, count: 4 * 4)
        var image = [Float](repeating: 10, count: 9)
        Im2col.col2im(columns: columns, channels: 1, height: 3, width: 3, geometry: geometry, image: &image)
        // Each pixel gains the number of windows that cover it.
        expectEqual(image, [11, 12, 11, 12, 14, 12, 11, 12, 11], "image")
    }
}
