import Foundation
import TOMLKit

/// One `section.key=value` override (the CLI's `--set`), with the value parsed as TOML.
///
/// A value that is not valid TOML is taken as a bare string (`run.name=baseline`), unless it starts like a TOML
/// string, array or inline table: then it was meant as TOML and its syntax error is reported instead of
/// silently becoming a string.
struct ConfigOverride: Sendable, Equatable {
    /// The override as given, quoted in error messages.
    let text: String
    /// The section the key belongs to.
    let section: String
    /// The key within the section.
    let key: String
    /// The parsed value.
    let value: ConfigValue

    /// Parses `text`, throwing `badOverride` for anything but `section.key=value`.
    init(_ text: String) throws(ConfigError) {
        self.text = text
        guard let equals = text.firstIndex(of: "=") else {
            throw .badOverride(override: text, reason: "expected section.key=value")
        }
        let path = text[..<equals].trimmingCharacters(in: .whitespaces)
        let parts = path.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty }) else {
            throw .badOverride(override: text, reason: "expected section.key=value, got key '\(path)'")
        }
        section = String(parts[0])
        key = String(parts[1])
        let literal = text[text.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        guard !literal.isEmpty else { throw .badOverride(override: text, reason: "the value is empty") }
        value = try Self.parse(literal, override: text)
    }

    /// The source that error messages name for this override's value.
    var source: String { "--set \(text)" }

    private static func parse(_ literal: String, override: String) throws(ConfigError) -> ConfigValue {
        do {
            let table = try TOMLTable(string: "value = \(literal)")
            // A literal with a newline could smuggle in further keys; only a single value is an override.
            guard table.count == 1, let value = table["value"] else {
                throw ConfigError.badOverride(override: override, reason: "the value must be a single TOML value")
            }
            return ConfigValue(value)
        } catch let error as TOMLParseError {
            guard let first = literal.first, !"\"'[{".contains(first) else {
                throw .badOverride(override: override, reason: "the value is not valid TOML (\(error.description))")
            }
            return .string(literal)
        } catch let error as ConfigError {
            throw error
        } catch {
            throw .badOverride(override: override, reason: "\(error)")
        }
    }
}
