import Foundation

/// Reads a TOML config file, applies `section.key=value` overrides and maps the result to a checked
/// `TrainingConfig`.
public enum ConfigLoader {
    /// The config in the file at `path` with `overrides` (the CLI's `--set section.key=value`) applied in order.
    ///
    /// Override values are TOML (`optimizer.lr=0.05`, `run.name="x"`, `schedule.milestones=[30,60,80]`) or, when
    /// not valid TOML, a bare string (`run.name=x`). An override may set a key the file lacks; unknown keys are
    /// errors wherever they come from.
    public static func load(path: String, overrides: [String] = []) throws(ConfigError) -> LoadedConfig {
        try parse(text: try read(path), file: path, overrides: overrides)
    }

    /// The config in `text`, named `file` in error messages, with `overrides` applied in order.
    public static func parse(text: String, file: String, overrides: [String] = []) throws(ConfigError) -> LoadedConfig {
        var document = try ConfigDocument(text: text, file: file)
        for override in overrides { document.apply(try ConfigOverride(override)) }
        return LoadedConfig(config: try TrainingConfig(document: document))
    }

    private static func read(_ path: String) throws(ConfigError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .unreadableFile(path: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw .unreadableFile(path: path, reason: "it is a directory") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadableFile(path: path, reason: "permission denied")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .unreadableFile(path: path, reason: "not UTF-8 text")
        }
        return text
    }
}
