/// A config value together with where it came from, so that an error can name the file or the override.
struct ConfigEntry: Sendable, Equatable {
    /// The value.
    let value: ConfigValue
    /// The config file's path, or `--set key=value` for an override.
    let source: String
}
