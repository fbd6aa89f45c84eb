import Foundation
import Testing
import Trainer

/// The config reference is what the loader answers, for every key, and datasets/config-reference.md is its
/// current output.
@Suite struct ConfigReferenceTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test func everyKeyHasAMeaningAndNoMeaningIsStale() {
        let entries = ConfigReference.entries()
        #expect(entries.count > 50)
        #expect(entries.filter { $0.meaning.isEmpty }.map { "\($0.section).\($0.key)" } == [])
        #expect(ConfigReference.staleMeanings == [])
    }

    @Test func typesRangesAndDefaultsAreTheLoaders() throws {
        let entries = ConfigReference.entries()
        func entry(_ section: String, _ key: String) throws -> ConfigReference.Entry {
            try #require(entries.first { $0.section == section && $0.key == key })
        }
        let epochs = try entry("run", "epochs")
        #expect(epochs.type == "an integer" && epochs.allowed == ["≥ 1"] && epochs.defaults.map(\.value) == ["1"])
        let momentum = try entry("optimizer", "momentum")
        #expect(momentum.allowed == ["in [0, 1)"])
        #expect(momentum.defaults.map(\.value) == ["0.0", "0.9"])
        #expect(momentum.appliesTo == ["sgd", "momentum", "nesterov", "rmsprop", "lars"])
        #expect(try entry("data", "train").defaults.map(\.value) == ["required"])
        #expect(try entry("data", "eval_batch").defaults.map(\.value) == ["derived from other keys"])
        #expect(try entry("model", "layers").defaults.map(\.value) == ["required"])
        #expect(try entry("model.layers", "type").type.hasPrefix("one of dense, conv2d"))
        #expect(try entry("schedule", "name").defaults.map(\.value) == ["\"constant\""])
    }

    @Test func committedReferenceIsCurrent() throws {
        let path = Self.packageRoot + "/datasets/config-reference.md"
        let committed = try String(contentsOfFile: path, encoding: .utf8)
        #expect(committed == ConfigReference.markdown(), "regenerate: dtrain config --reference > datasets/config-reference.md")
    }
}
