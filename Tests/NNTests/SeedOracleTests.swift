import Engine
import NN
import Testing

/// The course material's worked examples, computed with dtrain's layers.
@Suite struct SeedOracleTests {
    /// f = (x + y) z at x = -2, y = 5, z = -4: q = 3, f = -12, df/dx = df/dy = -4, df/dz = 3.
    /// q = [1 1] . [x y] is a bias-free dense layer, f = z q another whose weight is z.
    @Test func backpropagationThroughASum() {
        let sum = Dense(2, 1, bias: false), product = Dense(1, 1, bias: false)
        let sumWeight = Tensor(shape: [1, 2], values: [1, 1]), sumGradient = Tensor(zeros: [1, 2])
        let z = Tensor(shape: [1, 1], values: [-4]), zGradient = Tensor(zeros: [1, 1])
        sum.bind(parameters: [sumWeight], gradients: [sumGradient], buffers: [])
        product.bind(parameters: [z], gradients: [zGradient], buffers: [])
        let context = ForwardContext.training(batchSize: 1)

        let q = sum.forward([Tensor(shape: [1, 2], values: [-2, 5])], context: context)
        let f = product.forward([q], context: context)
        #expect(q.scalars == [3])
        #expect(f.scalars == [-12])
        let dq = product.backward(Tensor(shape: [1, 1], values: [1]), needsInputGradient: true)[0]
        let dxy = sum.backward(dq, needsInputGradient: true)[0]
        #expect(dxy.scalars == [-4, -4])
        #expect(zGradient.scalars == [3])
    }

    /// f(W, x) = W . x with W = [-0.8, 0.3], x = [0.5, -0.2]: f = -0.46, df/dW = x, df/dx = W, and centred
    /// differences agree.
    @Test func numericalDifferentiationOfADotProduct() {
        let layer = Dense(2, 1, bias: false)
        let w = Tensor(shape: [1, 2], values: [-0.8, 0.3]), dw = Tensor(zeros: [1, 2])
        layer.bind(parameters: [w], gradients: [dw], buffers: [])
        let x = Tensor(shape: [1, 2], values: [0.5, -0.2])
        let context = ForwardContext.training(batchSize: 1)
        let f = layer.forward([x], context: context)
        #expect(abs(f.scalars[0] - -0.46) < 1e-7)
        let dx = layer.backward(Tensor(shape: [1, 1], values: [1]), needsInputGradient: true)[0]
        #expect(dw.scalars == x.scalars)
        #expect(dx.scalars == w.scalars)
        let loss = { Double(layer.forward([x], context: context).scalars[0]) }
        for (values, analytic) in [(w, dw), (x, dx)] {
            let result = GradientCheck.compare("dot", values: values, analytic: analytic, step: 1e-3, loss: loss)
            #expect(result.worstRelativeError < 1e-4, "\(result)")
        }
    }
}
