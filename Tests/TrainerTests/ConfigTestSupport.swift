import Foundation
import Testing
import Trainer

/// Small configs and helpers shared by the config tests.
enum ConfigTesting {
    /// The smallest valid config: only the required keys.
    static let minimal = """
        [data]
        train = "train.h5"
        global_batch = 32

        [model]
        name = "lenet5"

        [optimizer]
        lr = 0.1
        """

    /// The config in `text` (named test.toml) with `overrides`.
    static func load(_ text: String = minimal, overrides: [String] = []) throws(ConfigError) -> TrainingConfig {
        try ConfigLoader.parse(text: text, file: "test.toml", overrides: overrides).config
    }

    /// The message of the error that loading `text` with `overrides` throws, or nil if it loads.
    static func message(_ text: String = minimal, overrides: [String] = []) -> String? {
        do {
            _ = try load(text, overrides: overrides)
            return nil
        } catch {
            return error.description
        }
    }

    /// Loads `config.resolvedText` again and checks that it gives the same config and the same text.
    static func expectRoundTrip(_ config: TrainingConfig, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let again = try ConfigLoader.parse(text: config.resolvedText, file: "resolved.toml")
            #expect(again.config == config, sourceLocation: sourceLocation)
            #expect(again.resolvedText == config.resolvedText, sourceLocation: sourceLocation)
        } catch {
            Issue.record("resolved text does not load: \(error)\n\(config.resolvedText)", sourceLocation: sourceLocation)
        }
    }

    /// The repository's root, two folders above this file's folder.
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}
