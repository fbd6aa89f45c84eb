import Engine

/// Buffers for the activations and gradients a model's layers hand from one to the next, recycled as soon as
/// nothing refers to them any more.
///
/// An activation lives from the forward pass that produces it to the last layer that reads it, or to the end of
/// the backward pass of a layer that cached it; a gradient from the backward pass that produces it to the one that
/// consumes it. A layer that kept its own buffers from step to step would keep every activation and gradient of
/// the network resident at once. The pool hands out storage that only it still references
/// (`isKnownUniquelyReferenced`), so the memory of a step is that of the tensors alive together (the backward
/// pass's gradients take the storage of the activations it has consumed), and a steady-state step, which asks for
/// the same shapes in the same order, allocates nothing.
public final class TensorPool {
    private var storages: [TensorStorage] = []

    public init() {}

    /// A tensor of `shape` (contents undefined) on storage nothing else refers to, allocated when none fits.
    public func tensor(shape: [Int]) -> Tensor {
        let needed = Tensor.elementCount(shape)
        var best: Int?
        for index in storages.indices where isKnownUniquelyReferenced(&storages[index]) {
            let count = storages[index].count
            // The smallest free storage that fits, and not more than twice the need, so a small tensor does not
            // hold a large buffer another shape will want.
            if count >= needed && count <= 2 * needed + 64 && count < (best.map { storages[$0].count } ?? .max) {
                best = index
            }
        }
        if let best { return Tensor(storage: storages[best], offset: 0, shape: shape) }
        let tensor = Tensor(zeros: shape)
        storages.append(tensor.storage)
        return tensor
    }
}
