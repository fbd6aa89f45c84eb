/// A config as loaded: the typed settings and the same settings written out in full.
public struct LoadedConfig: Sendable, Equatable {
    /// The checked settings, defaults filled in.
    public let config: TrainingConfig
    /// Every setting as TOML (`config.resolvedText`), for the run's output directory and its checkpoints.
    public let resolvedText: String

    /// The loaded form of `config`.
    public init(config: TrainingConfig) {
        self.config = config
        self.resolvedText = config.resolvedText
    }
}
