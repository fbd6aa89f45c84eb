/// Builds TOML text one section and key at a time, in the order they are written.
///
/// The resolved config is written by hand rather than through TOMLKit because TOMLKit sorts keys and drops
/// comments, and the resolved text should read in the same order as the documentation, with unset optional
/// settings shown as comments.
struct TOMLWriter {
    /// The text so far.
    private(set) var text: String

    /// A writer whose text starts with `header` as comment lines.
    init(header: [String]) {
        text = header.map { "# \($0)\n" }.joined()
    }

    /// Starts `[name]`.
    mutating func section(_ name: String) {
        text += "\n[\(name)]\n"
    }

    /// Starts one more table of the array `[[name]]`.
    mutating func arrayTable(_ name: String) {
        text += "\n[[\(name)]]\n"
    }

    /// Writes `key = value`, or a comment saying the key is unset when `value` is nil (TOML has no null).
    mutating func set(_ key: String, _ value: (any TOMLLiteral)?) {
        if let value {
            text += "\(key) = \(value.tomlLiteral)\n"
        } else {
            text += "# \(key) is not set\n"
        }
    }
}
