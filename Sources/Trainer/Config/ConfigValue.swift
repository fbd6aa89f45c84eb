import TOMLKit

/// A TOML value copied out of TOMLKit's tree into plain Swift values.
///
/// Copying once at the start keeps TOMLKit's reference types out of the rest of the config code and lets
/// overrides replace values without mutating the parser's tree.
enum ConfigValue: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case float(Double)
    case boolean(Bool)
    case array([ConfigValue])
    case table([String: ConfigValue])
    /// A date, time or date-time, which no setting takes; the payload names the kind for error messages.
    case other(String)

    /// The value of a TOMLKit node, copied recursively.
    init(_ node: any TOMLValueConvertible) {
        switch node.type {
        case .string: self = .string(node.string ?? "")
        case .int: self = .integer(node.int ?? 0)
        case .double: self = .float(node.double ?? 0)
        case .bool: self = .boolean(node.bool ?? false)
        case .array: self = .array((node.array.map(Array.init) ?? []).map(ConfigValue.init))
        case .table:
            var entries: [String: ConfigValue] = [:]
            for (key, value) in node.table ?? TOMLTable() { entries[key] = ConfigValue(value) }
            self = .table(entries)
        case .date: self = .other("a date")
        case .time: self = .other("a time")
        case .dateTime: self = .other("a date-time")
        }
    }

    /// The value's kind with its article, as error messages say it ("a string", "an integer").
    var kind: String {
        switch self {
        case .string: return "a string"
        case .integer: return "an integer"
        case .float: return "a floating-point number"
        case .boolean: return "a boolean"
        case .array: return "an array"
        case .table: return "a table"
        case .other(let kind): return kind
        }
    }
}
