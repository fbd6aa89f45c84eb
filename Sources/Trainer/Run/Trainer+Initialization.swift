import NN

extension Trainer {
    /// Starts `model` from the model file `model.init` names, if any, on every rank (each reads the file, so the
    /// replicas stay identical); says which classifier tensors were initialised afresh.
    func startFromModelFile(_ model: Model, log: RunLog) throws(TrainerError) {
        guard let path = config.initialization else { return }
        let fresh = try collectively { try ModelInitialization.apply(path, to: model, modelName: config.model.name.rawValue) }
        log.line("model.init: parameters and buffers from \(path)"
                 + (fresh.isEmpty ? "" : "; \(fresh.joined(separator: ", ")) initialised afresh: the file's classifier has another size"))
    }
}
