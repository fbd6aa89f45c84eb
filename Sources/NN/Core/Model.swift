import Engine

/// A network ready to train: its graph, one flat parameter buffer, one flat gradient buffer and a buffer store.
///
/// Layers hold views into the flat buffers, so the optimizer, the gradient allreduce and checkpoint I/O each work
/// on one contiguous block. Parameters are laid out in graph order, which for the zoo models is torchvision's
/// `named_parameters()` order.
///
/// A batch norm whose output only a residual sum reads, as its first input, runs its forward pass in the sum's
/// place and adds the shortcut (and the sum's ReLU) in its own pass (`BatchNorm.takeResidual`): a ResNet block then
/// writes and reads one activation less. The backward pass keeps the graph's order, the sum's gradient
/// (`BatchNorm.residualGradient`) at the sum and the batch norm's at the batch norm. The graph keeps both nodes, so
/// names, parameter order and the profile's rows stay; the batch norm's row holds the time of both. Where the
/// sum's output is read twice (the next block's convolution and shortcut), its ReLU masks the two arriving
/// gradients in the pass that adds them (`accumulate`), whose time the profile counts outside the layers.
public final class Model {
    /// The layers and their wiring.
    public let graph: Graph
    /// The shape of one input sample (C, H, W or features).
    public let inputShape: [Int]
    /// The shape of one output sample (number of classes).
    public let outputShape: [Int]
    /// Every trainable parameter, concatenated.
    public let parameters: Tensor
    /// The gradient of the loss with respect to `parameters`, same layout.
    public let gradients: Tensor
    /// Every non-trainable buffer (batch-norm statistics), concatenated.
    public let buffers: Tensor
    /// Where each named parameter lies in `parameters` and `gradients`.
    public let parameterSegments: [ParameterSegment]
    /// Where each named buffer lies in `buffers`.
    public let bufferSegments: [BufferSegment]

    private var outputGradients: [Tensor?]
    private var gradientIsOwned: [Bool]
    /// For each node read by some entry, the input gradient that reaches it last in a backward pass: that of the
    /// reader with the smallest index (backward runs in reverse), at the last input position holding the node.
    private let lastArrivals: [(entry: Int, position: Int)?]
    /// Whether a fused residual sum's gradient was masked by its ReLU as its last part arrived (`accumulate`).
    private var maskedOnArrival: [Bool]
    /// The layers' shared scratch and tensor pool, which also holds the sums at residual branch points.
    private let memory: SharedMemory
    /// For each graph entry, the nodes it is the last to read (itself when nothing reads it), whose outputs a forward
    /// pass drops after it; the network's output is left to the caller.
    private let lastReads: [[Int]]
    /// Whether the layers hold what the last forward cached for a backward pass: after a training forward, until
    /// the backward pass.
    private var cachesForBackward = false
    /// Where each graph entry's first parameter lies in the flat buffers; nil for entries without parameters.
    private let firstParameterOffsets: [Int?]
    /// What the forward pass runs for each graph entry: its layer on its inputs, a batch norm in a residual sum's
    /// place, or nothing for that batch norm's own entry.
    private let forwardSteps: [ForwardStep?]
    /// For each residual sum a batch norm computes, that batch norm's entry.
    private let fusedSums: [Int: Int]

    /// A layer run on the outputs of `inputs`, whose time goes to the profile's `row`.
    private struct ForwardStep {
        let layer: any Layer
        let inputs: [Graph.Node]
        let row: Int
    }

    /// Builds the model for samples of `inputShape`, checking every layer's shapes and drawing initial
    /// parameters from `seed` (the same seed gives the same parameters on every rank).
    public init(graph: Graph, inputShape: [Int], seed: UInt64) throws(ShapeError) {
        self.graph = graph
        self.inputShape = inputShape

        var shapes: [[Int]] = []
        var parameterSegments: [ParameterSegment] = []
        var bufferSegments: [BufferSegment] = []
        var parameterCount = 0, bufferCount = 0
        var firstParameterOffsets: [Int?] = []
        for entry in graph.entries {
            firstParameterOffsets.append(entry.layer.parameterSpecs.isEmpty ? nil : parameterCount)
            let inputShapes = entry.inputs.map { $0.index < 0 ? [1] + inputShape : shapes[$0.index] }
            let shape: [Int]
            do {
                shape = try entry.layer.outputShape(for: inputShapes)
            } catch {
                throw ShapeError("\(entry.name): \(error.description)")
            }
            shapes.append(shape)
            for spec in entry.layer.parameterSpecs {
                let segment = ParameterSegment(name: "\(entry.name).\(spec.name)", offset: parameterCount,
                                               shape: spec.shape, role: spec.role)
                parameterSegments.append(segment)
                parameterCount += segment.count
            }
            for spec in entry.layer.bufferSpecs {
                let segment = BufferSegment(name: "\(entry.name).\(spec.name)", offset: bufferCount, shape: spec.shape)
                bufferSegments.append(segment)
                bufferCount += segment.count
            }
        }
        guard let last = shapes.last else { throw ShapeError("the model has no layers") }
        outputShape = Array(last.dropFirst())

        let parameters = Tensor(zeros: [parameterCount])
        let gradients = Tensor(zeros: [parameterCount])
        let buffers = Tensor(zeros: [bufferCount])

        var nextParameter = 0, nextBuffer = 0
        let memory = SharedMemory()
        self.memory = memory
        for entry in graph.entries {
            entry.layer.share(memory)
            let parameterViews = entry.layer.parameterSpecs.map { spec -> (Tensor, Tensor) in
                let segment = parameterSegments[nextParameter]
                let view = Tensor(storage: parameters.storage, offset: segment.offset, shape: segment.shape)
                spec.initializer.fill(view, seed: seed, stream: UInt64(nextParameter))
                nextParameter += 1
                return (view, Tensor(storage: gradients.storage, offset: segment.offset, shape: segment.shape))
            }
            let bufferViews = entry.layer.bufferSpecs.map { spec -> Tensor in
                let segment = bufferSegments[nextBuffer]
                nextBuffer += 1
                let view = Tensor(storage: buffers.storage, offset: segment.offset, shape: segment.shape)
                view.fill(spec.initialValue)
                return view
            }
            entry.layer.bind(parameters: parameterViews.map(\.0), gradients: parameterViews.map(\.1),
                             buffers: bufferViews)
        }

        self.parameters = parameters
        self.gradients = gradients
        self.buffers = buffers
        self.parameterSegments = parameterSegments
        self.bufferSegments = bufferSegments
        self.firstParameterOffsets = firstParameterOffsets
        let fusedSums = Self.residualSumsToFuse(graph)
        self.fusedSums = fusedSums
        var forwardSteps: [ForwardStep?] = graph.entries.enumerated().map {
            ForwardStep(layer: $1.layer, inputs: $1.inputs, row: $0)
        }
        for (sum, normalized) in fusedSums {
            forwardSteps[sum] = ForwardStep(layer: graph.entries[normalized].layer,
                                            inputs: [graph.entries[normalized].inputs[0], graph.entries[sum].inputs[1]],
                                            row: normalized)
            forwardSteps[normalized] = nil
        }
        self.forwardSteps = forwardSteps
        let n = graph.entries.count
        var lastReader = Array(0..<n)
        for (index, step) in forwardSteps.enumerated() {
            for input in step?.inputs ?? [] where input.index >= 0 { lastReader[input.index] = index }
        }
        var lastReads = Array(repeating: [Int](), count: n)
        for node in 0..<(n - 1) { lastReads[lastReader[node]].append(node) }
        self.lastReads = lastReads
        outputGradients = Array(repeating: nil, count: n)
        gradientIsOwned = Array(repeating: false, count: n)
        maskedOnArrival = Array(repeating: false, count: n)
        var lastArrivals = [(entry: Int, position: Int)?](repeating: nil, count: n)
        for (index, entry) in graph.entries.enumerated().reversed() {
            for (position, input) in entry.inputs.enumerated() where input.index >= 0 {
                lastArrivals[input.index] = (index, position)
            }
        }
        self.lastArrivals = lastArrivals
    }

    /// The residual sums (entry index to the batch norm's) whose first input only they read, a batch norm's output
    /// not followed by its own ReLU, made to take the shortcut (`BatchNorm.takeResidual`).
    private static func residualSumsToFuse(_ graph: Graph) -> [Int: Int] {
        let entries = graph.entries
        var readers = Array(repeating: [Int](), count: entries.count)
        for (index, entry) in entries.enumerated() {
            for input in entry.inputs where input.index >= 0 { readers[input.index].append(index) }
        }
        var fused: [Int: Int] = [:]
        for (index, entry) in entries.enumerated() {
            guard let sum = entry.layer as? Add, entry.inputs.count == 2, entry.inputs[0] != entry.inputs[1] else {
                continue
            }
            let normalized = entry.inputs[0].index
            guard normalized >= 0, readers[normalized] == [index],
                  let batchNorm = entries[normalized].layer as? BatchNorm,
                  batchNorm.takeResidual(relu: sum.fusedReLU) else { continue }
            fused[index] = normalized
        }
        return fused
    }

    /// The graph entries whose work another entry's layer does, each with the entry whose profile row carries it.
    public var fusedEntries: [(entry: Int, row: Int)] {
        fusedSums.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// The number of trainable parameters.
    public var parameterCount: Int { parameters.count }

    /// The view of the parameter with the given torchvision name.
    public func parameter(named name: String) -> Tensor? {
        parameterSegments.first { $0.name == name }.map {
            Tensor(storage: parameters.storage, offset: $0.offset, shape: $0.shape)
        }
    }

    /// The view of the gradient of the parameter with the given name.
    public func gradient(named name: String) -> Tensor? {
        parameterSegments.first { $0.name == name }.map {
            Tensor(storage: gradients.storage, offset: $0.offset, shape: $0.shape)
        }
    }

    /// The view of the buffer with the given torchvision name.
    public func buffer(named name: String) -> Tensor? {
        bufferSegments.first { $0.name == name }.map {
            Tensor(storage: buffers.storage, offset: $0.offset, shape: $0.shape)
        }
    }

    /// When set, every forward and backward pass adds each layer's time to it.
    public var profile: LayerProfile?

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    /// Makes every batch norm of the model use the global batch's statistics, summed over the ranks by `ranks`.
    public func synchronizeBatchNorm(with ranks: any CrossRankSum) {
        for entry in graph.entries { (entry.layer as? BatchNorm)?.crossRank = ranks }
    }

    /// Sets every gradient to zero, split over the compute threads; backward passes add into them.
    public func zeroGradients() {
        let g = gradients.pointer
        ComputeThreads.forEachRange(gradients.count, grain: 1 << 16) { range in
            (g + range.lowerBound).update(repeating: 0, count: range.count)
        }
    }

    /// Runs the network on a batch `input` [N, inputShape...] and returns its output [N, outputShape...].
    ///
    /// A node's output goes back to the pool once the last layer reading it has run, unless a layer cached it for
    /// its backward pass; an evaluation forward, which no backward follows, lets the layers keep nothing, so that
    /// it holds only the outputs not yet read.
    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        precondition(Array(input.shape.dropFirst()) == inputShape,
                     "Model: input \(input.shape) does not match samples of \(inputShape)")
        var outputs = [Tensor?](repeating: nil, count: graph.entries.count)
        var layerContext = context
        for (index, step) in forwardSteps.enumerated() {
            guard let step else { continue }
            let inputs = step.inputs.map { $0.index < 0 ? input : outputs[$0.index]! }
            layerContext.layerIndex = step.row
            let start = profile.map { _ in ContinuousClock.now }
            outputs[index] = step.layer.forward(inputs, context: layerContext)
            if let profile, let start { profile.addForward(step.row, Self.seconds(since: start)) }
            if context.mode == .evaluation { step.layer.releaseCaches() }
            for node in lastReads[index] { outputs[node] = nil }
        }
        cachesForBackward = context.mode == .training
        return outputs[graph.entries.count - 1]!
    }

    /// Back-propagates `outputGradient` (the gradient of the loss with respect to the last forward's output, which
    /// must be a training forward), adding the parameter gradients into `gradients`.
    ///
    /// Each layer's caches are released after its backward, so that the activations it consumed go back to the
    /// pool for the gradients of the layers below; a second backward needs another forward.
    ///
    /// Parameters lie in graph order and layers run in reverse, so after each layer that holds parameters the
    /// gradients from its first parameter to the end of the buffer are final: `gradientsReady` is told that offset
    /// (a gradient reducer starts sending them while the earlier layers compute).
    public func backward(_ outputGradient: Tensor, gradientsReady: (_ offset: Int) -> Void = { _ in }) {
        precondition(cachesForBackward, "Model: backward without a training forward since the last backward")
        cachesForBackward = false
        let n = graph.entries.count
        for index in 0..<n {
            outputGradients[index] = nil
            gradientIsOwned[index] = false
            maskedOnArrival[index] = false
        }
        outputGradients[n - 1] = outputGradient
        for index in stride(from: n - 1, through: 0, by: -1) {
            let entry = graph.entries[index]
            defer { if let offset = firstParameterOffsets[index] { gradientsReady(offset) } }
            // A node nothing downstream depends on (its output unused) contributes no gradient.
            guard let gradient = outputGradients[index] else {
                entry.layer.releaseCaches()
                continue
            }
            let needsInputGradient = entry.inputs.contains { $0.index >= 0 }
            let fusedInto = fusedSums[index]
            func run() -> [Tensor] {
                // A fused sum: one gradient for both inputs; the batch norm keeps its caches for its own entry.
                if let fusedInto, let batchNorm = graph.entries[fusedInto].layer as? BatchNorm {
                    let sumGradient = maskedOnArrival[index] ? gradient : batchNorm.residualGradient(gradient)
                    return [sumGradient, sumGradient]
                }
                defer { entry.layer.releaseCaches() }
                return entry.layer.backward(gradient, needsInputGradient: needsInputGradient)
            }
            let inputGradients: [Tensor]
            if let profile {
                let row = fusedInto ?? index, start = ContinuousClock.now
                inputGradients = LayerProfile.$timedBackward.withValue((profile, row)) { run() }
                profile.addBackward(row, Self.seconds(since: start))
            } else {
                inputGradients = run()
            }
            for (position, (input, inputGradient)) in zip(entry.inputs, inputGradients).enumerated()
            where input.index >= 0 {
                // The layer's own output gradient passed through (a plain sum, a reshape) or one tensor returned
                // for both inputs is shared; any other input gradient is the node's alone.
                let shared = inputGradient.storage === gradient.storage
                    || inputGradients.count { $0.storage === inputGradient.storage } > 1
                let last = lastArrivals[input.index].map { $0 == (index, position) } ?? false
                accumulate(inputGradient, into: input.index, shared: shared, last: last)
            }
            // Consumed: the pool may hand its buffer to the next layer once nothing else refers to it.
            outputGradients[index] = nil
        }
    }

    /// Adds a gradient arriving at node `index`; a node read by several layers (a residual branch point) sums them
    /// in a tensor that is its alone, so that the next arrival can be added in place. The `last` one to arrive at
    /// a fused residual sum whose ReLU masks its gradient is added and masked in one pass, which spares the sum's
    /// step its own pass over the gradient (ResNet's block outputs, each read by the next block's convolution
    /// and its shortcut).
    private func accumulate(_ gradient: Tensor, into index: Int, shared: Bool, last: Bool) {
        guard let existing = outputGradients[index] else {
            outputGradients[index] = gradient
            gradientIsOwned[index] = !shared
            return
        }
        // Into the sum the node owns already, else into the arrival when it is the node's alone, else into a tensor
        // from the pool, whose storage goes back to it once the node's layer has consumed the sum.
        let sum = gradientIsOwned[index] ? existing : shared ? memory.pool.tensor(shape: gradient.shape) : gradient
        if last, let normalized = fusedSums[index], let batchNorm = graph.entries[normalized].layer as? BatchNorm,
           batchNorm.masksResidualGradient {
            batchNorm.residualGradient(of: existing, plus: gradient, into: sum)
            maskedOnArrival[index] = true
        } else {
            Elementwise.add(existing.pointer, gradient.pointer, sum.pointer, count: sum.count)
        }
        outputGradients[index] = sum
        gradientIsOwned[index] = true
    }
}
