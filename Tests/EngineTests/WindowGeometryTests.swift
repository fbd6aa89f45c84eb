import Engine
import Testing

@Suite struct WindowGeometryTests {
    func size(_ input: Int, kernel: Int, stride: Int = 1, padding: Int = 0) -> Int {
        let out = WindowGeometry(kernel: kernel, stride: stride, padding: padding).outputSize(height: input, width: input)
        #expect(out.height == out.width)
        return out.height
    }

    @Test func courseShapes() {
        // 32x32 input, 5x5 filters.
        #expect(size(32, kernel: 5) == 28)
        #expect(size(32, kernel: 5, stride: 3) == 10)
        // LeNet-5: conv 5, pool 2, conv 5, pool 2, conv 5.
        #expect(size(32, kernel: 5) == 28)
        #expect(size(28, kernel: 2, stride: 2) == 14)
        #expect(size(14, kernel: 5) == 10)
        #expect(size(10, kernel: 2, stride: 2) == 5)
        #expect(size(5, kernel: 5) == 1)
        // Conv(3,16,7) Conv(16,32,3,pad 1,stride 2) Conv(32,64,3,pad 1) Conv(64,64,1) on 256x256.
        #expect(size(256, kernel: 7) == 250)
        #expect(size(250, kernel: 3, stride: 2, padding: 1) == 125)
        #expect(size(125, kernel: 3, padding: 1) == 125)
        #expect(size(125, kernel: 1) == 125)
    }

    @Test func rectangularWindows() {
        let g = WindowGeometry(kernelHeight: 3, kernelWidth: 1, strideHeight: 2, strideWidth: 1,
                               paddingHeight: 1, paddingWidth: 0)
        let out = g.outputSize(height: 7, width: 4)
        #expect(out.height == 4 && out.width == 4)
        #expect(WindowGeometry(kernel: 3, stride: 2, padding: 1) == WindowGeometry(
            kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2, paddingHeight: 1, paddingWidth: 1))
    }

    @Test func pointwise() {
        #expect(WindowGeometry(kernel: 1).isPointwise)
        #expect(!WindowGeometry(kernel: 1, stride: 2).isPointwise)
        #expect(!WindowGeometry(kernel: 1, padding: 1).isPointwise)
        #expect(!WindowGeometry(kernel: 3).isPointwise)
    }
}
