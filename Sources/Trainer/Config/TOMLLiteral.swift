/// A value that can be written as a TOML literal which parses back to the same value.
protocol TOMLLiteral {
    /// The TOML source text of the value.
    var tomlLiteral: String { get }
}

extension String: TOMLLiteral {
    /// A basic string with TOML's escapes.
    var tomlLiteral: String {
        var literal = "\""
        for scalar in unicodeScalars {
            switch scalar {
            case "\"": literal += "\\\""
            case "\\": literal += "\\\\"
            case "\n": literal += "\\n"
            case "\t": literal += "\\t"
            case "\r": literal += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                literal += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16, uppercase: true)
            default: literal.unicodeScalars.append(scalar)
            }
        }
        return literal + "\""
    }
}

extension Int: TOMLLiteral {
    var tomlLiteral: String { String(self) }
}

extension UInt64: TOMLLiteral {
    var tomlLiteral: String { String(self) }
}

extension Bool: TOMLLiteral {
    var tomlLiteral: String { self ? "true" : "false" }
}

extension Float: TOMLLiteral {
    /// Swift's shortest round-tripping form (`0.05`, `1e-08`), which is also valid TOML for finite values.
    var tomlLiteral: String { description }
}

extension Double: TOMLLiteral {
    /// Swift's shortest round-tripping form, which is also valid TOML for finite values.
    var tomlLiteral: String { description }
}

extension Array: TOMLLiteral where Element: TOMLLiteral {
    var tomlLiteral: String { "[" + map(\.tomlLiteral).joined(separator: ", ") + "]" }
}
