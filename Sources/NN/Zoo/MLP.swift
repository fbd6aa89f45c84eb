extension ModelZoo {
    /// A multilayer perceptron: flatten, then `hiddenSizes` dense layers with `activation` (and dropout when
    /// `dropout` > 0), then a dense layer to `classes`. Layers are named `fc1`, `fc2`, ...
    public static func mlp(inputShape: [Int], hiddenSizes: [Int], classes: Int,
                           activation: Activation.Kind = .relu, dropout: Float = 0) -> Graph {
        let graph = Graph()
        var x = graph.add("flatten", Flatten(), graph.input)
        var width = inputShape.reduce(1, *)
        for (index, size) in hiddenSizes.enumerated() {
            x = graph.add("fc\(index + 1)", Dense(width, size), x)
            x = graph.add("act\(index + 1)", Activation(activation), x)
            if dropout > 0 { x = graph.add("dropout\(index + 1)", Dropout(probability: dropout), x) }
            width = size
        }
        graph.add("fc\(hiddenSizes.count + 1)", Dense(width, classes), x)
        return graph
    }
}
