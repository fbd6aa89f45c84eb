import ArgumentParser
import Foundation
import Trainer

/// `dtrain config --reference` and `dtrain config CONFIG.toml`: what the config loader accepts, and what it makes of
/// a file.
struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the config reference, or a config with every default filled in.",
        discussion: """
            --reference prints every key with its type, default, allowed values and meaning, as Markdown (what
            datasets/config-reference.md holds). With a config file, prints it resolved: every section and key
            in a fixed order, defaults included (what a run writes as <out_dir>/config.toml).
            Exit status: 0 done, 2 the config does not load (one line says why).
            """)

    @Flag(help: "Print the reference of every config key.")
    var reference = false

    @Argument(help: "A config to resolve.")
    var file: String?

    @Option(name: .customLong("set"), help: "Override a config key (repeatable).")
    var overrides: [String] = []

    func validate() throws {
        guard reference != (file != nil) else { throw ValidationError("give either --reference or a config file") }
    }

    func run() throws {
        guard let file else {
            print(ConfigReference.markdown(), terminator: "")
            return
        }
        do {
            print(try ConfigLoader.load(path: file, overrides: overrides).resolvedText, terminator: "")
        } catch {
            FileHandle.standardError.write("dtrain: \(error)\n".data(using: .utf8)!)
            throw ExitCode(2)
        }
    }
}
