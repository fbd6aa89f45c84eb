import Foundation

/// A mistake in a config file or an override, described in one line a person can act on.
///
/// `source` is where the offending value came from: the config file's path as given, or `--set key=value` for an
/// override. Keys are written in full (`optimizer.lr`, `model.layers[2].kernel`).
public enum ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The config file could not be read (missing, a directory, unreadable, not UTF-8).
    case unreadableFile(path: String, reason: String)
    /// The file is not valid TOML; line and column come from the TOML parser.
    case malformedTOML(path: String, line: Int, column: Int, reason: String)
    /// A section that dtrain does not know, with the closest known one if any is close.
    case unknownSection(section: String, source: String, suggestion: String?)
    /// A key that its section does not know, with the closest known key if any is close.
    case unknownKey(key: String, source: String, suggestion: String?, known: [String])
    /// A value of the wrong TOML type.
    case wrongType(key: String, source: String, found: String, expected: String)
    /// A value outside its allowed range.
    case outOfRange(key: String, source: String, requirement: String, value: String)
    /// A required key that is absent.
    case missingKey(key: String, source: String, expected: String)
    /// A string that is not one of the allowed names.
    case invalidChoice(key: String, source: String, value: String, allowed: [String])
    /// A known key that means nothing for the chosen model, optimizer, schedule or layer type.
    case notApplicable(key: String, source: String, context: String)
    /// An override that is not of the form `section.key=value`.
    case badOverride(override: String, reason: String)
    /// A directory the run must create (`key`, e.g. run.out_dir) cannot be, because `blocking`, the path itself or
    /// one of its parents, is a file.
    case notADirectory(key: String, path: String, blocking: String)
    /// The configured model cannot be built for the data's sample shape or number of classes.
    case modelInput(model: String, inputShape: [Int], reason: String)

    /// One line naming the file, the key and what was expected.
    public var description: String {
        switch self {
        case .unreadableFile(let path, let reason):
            return "cannot read config \(path): \(reason)"
        case .malformedTOML(let path, let line, let column, let reason):
            return "malformed TOML in \(path) at line \(line), column \(column): \(reason)"
        case .unknownSection(let section, let source, let suggestion):
            let hint = suggestion.map { "; did you mean [\($0)]?" } ?? ""
            return "unknown section [\(section)] in \(source)\(hint)"
        case .unknownKey(let key, let source, let suggestion, let known):
            let hint = suggestion.map { "; did you mean \($0)?" } ?? " (known keys: \(known.joined(separator: ", ")))"
            return "unknown key \(key) in \(source)\(hint)"
        case .wrongType(let key, let source, let found, let expected):
            return "\(key) in \(source) is \(found), expected \(expected)"
        case .outOfRange(let key, let source, let requirement, let value):
            return "\(key) in \(source) \(requirement), got \(value)"
        case .missingKey(let key, let source, let expected):
            return "missing required key \(key) in \(source), expected \(expected)"
        case .invalidChoice(let key, let source, let value, let allowed):
            return "\(key) in \(source) is \"\(value)\", expected one of \(allowed.joined(separator: ", "))"
        case .notApplicable(let key, let source, let context):
            return "\(key) in \(source) does not apply to \(context)"
        case .badOverride(let override, let reason):
            // An override from a script may hold a newline; escaping it keeps the message on one line.
            return "bad override '\(override.replacingOccurrences(of: "\n", with: "\\n"))': \(reason)"
        case .notADirectory(let key, let path, let blocking):
            return blocking == path
                ? "\(key) = \(path) is a file, expected a directory (or a path that does not exist yet)"
                : "\(key) = \(path) cannot be created: \(blocking) is a file, not a directory"
        case .modelInput(let model, let inputShape, let reason):
            let shape = inputShape.map(String.init).joined(separator: "x")
            return "model \(model) cannot take samples of shape \(shape): \(reason)"
        }
    }
}
