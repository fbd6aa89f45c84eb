import Engine

/// Average pooling to a fixed output size, as `nn.AdaptiveAvgPool2d`: output cell i of n over an input of length L
/// averages positions floor(i L / n) ..< ceil((i + 1) L / n), so windows may overlap and an input smaller than the
/// output is repeated.
public final class AdaptiveAvgPool2D: Layer {
    /// The output height and width.
    public let outputHeight: Int, outputWidth: Int
    private var inputShape: [Int] = []
    private var pool = TensorPool()

    public init(outputHeight: Int, outputWidth: Int) {
        precondition(outputHeight >= 1 && outputWidth >= 1, "AdaptiveAvgPool2D: output \(outputHeight)x\(outputWidth)")
        self.outputHeight = outputHeight
        self.outputWidth = outputWidth
    }

    public func share(_ memory: SharedMemory) {
        pool = memory.pool
    }

    public func outputShape(for inputShapes: [[Int]]) throws(ShapeError) -> [Int] {
        let shape = inputShapes[0]
        guard shape.count == 4 else { throw ShapeError("adaptive average pooling expects [N, C, H, W], got \(shape)") }
        return [shape[0], shape[1], outputHeight, outputWidth]
    }

    /// The input positions that output cell `index` of `outputs` averages.
    private static func window(_ index: Int, of outputs: Int, over length: Int) -> Range<Int> {
        (index * length / outputs)..<(((index + 1) * length + outputs - 1) / outputs)
    }

    /// Visits every output (i, j) of one plane with its window's input rows and columns.
    private func forEachWindow(height: Int, width: Int, _ body: (_ output: Int, Range<Int>, Range<Int>) -> Void) {
        for i in 0..<outputHeight {
            let rows = Self.window(i, of: outputHeight, over: height)
            for j in 0..<outputWidth {
                body(i * outputWidth + j, rows, Self.window(j, of: outputWidth, over: width))
            }
        }
    }

    public func forward(_ inputs: [Tensor], context: ForwardContext) -> Tensor {
        let x = inputs[0]
        let (planes, height, width) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
        let y = pool.tensor(shape: [x.shape[0], x.shape[1], outputHeight, outputWidth])
        for plane in 0..<planes {
            let source = x.pointer + plane * height * width
            let target = y.pointer + plane * outputHeight * outputWidth
            forEachWindow(height: height, width: width) { output, rows, columns in
                var sum: Float = 0
                for r in rows { for c in columns { sum += source[r * width + c] } }
                target[output] = sum / Float(rows.count * columns.count)
            }
        }
        inputShape = x.shape
        return y
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> [Tensor] {
        guard needsInputGradient else { return [] }
        let (planes, height, width) = (inputShape[0] * inputShape[1], inputShape[2], inputShape[3])
        let dx = pool.tensor(shape: inputShape)
        dx.pointer.update(repeating: 0, count: dx.count)
        for plane in 0..<planes {
            let source = outputGradient.pointer + plane * outputHeight * outputWidth
            let target = dx.pointer + plane * height * width
            forEachWindow(height: height, width: width) { output, rows, columns in
                let share = source[output] / Float(rows.count * columns.count)
                for r in rows { for c in columns { target[r * width + c] += share } }
            }
        }
        return [dx]
    }
}
