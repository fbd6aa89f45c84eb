/// A network as named layers wired into a directed acyclic graph, built in execution order.
///
/// Nodes run in the order they were added, which must list every node after its inputs; adding a layer in the
/// order torchvision registers its modules gives parameters the same order as `named_parameters()`.
public final class Graph {
    /// A reference to the output of a node, or to the network's input.
    public struct Node: Hashable, Sendable {
        /// The node's position; -1 is the network's input.
        public let index: Int
    }

    /// One layer and where its inputs come from.
    public struct Entry {
        /// The module path (`layer1.0.conv1`) that prefixes the layer's parameter names.
        public let name: String
        /// The operation.
        public let layer: any Layer
        /// The nodes whose outputs feed the layer, in the layer's input order.
        public let inputs: [Node]
    }

    /// The layers in execution order.
    public private(set) var entries: [Entry] = []

    /// The network's input.
    public let input = Node(index: -1)

    public init() {}

    /// Appends `layer`, fed by `inputs`, and returns its output.
    @discardableResult
    public func add(_ name: String, _ layer: any Layer, _ inputs: Node...) -> Node {
        precondition(!inputs.isEmpty, "Graph: layer \(name) has no input")
        precondition(inputs.allSatisfy { $0.index < entries.count }, "Graph: layer \(name) reads a node not yet added")
        entries.append(Entry(name: name, layer: layer, inputs: inputs))
        return Node(index: entries.count - 1)
    }

    /// The most recently added node, which is the network's output.
    public var output: Node { Node(index: entries.count - 1) }
}
