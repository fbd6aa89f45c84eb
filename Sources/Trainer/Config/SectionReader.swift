/// Typed, range-checked access to the keys of one config section (or one `[[model.layers]]` table).
///
/// Construction rejects keys the section does not know; `finish(context:)` rejects known keys that the chosen
/// variant never read ("model.pooling does not apply to model resnet50"). Every getter returns nil for an absent
/// key so that callers state defaults where they use them.
struct SectionReader {
    /// The section's name as keys are prefixed in messages (`optimizer`, `model.layers[2]`).
    let section: String
    /// The config file, named when a required key is missing.
    let file: String
    private let entries: [String: ConfigEntry]
    private var read: Set<String> = []

    /// A reader over `entries`, which must all be among `knownKeys`.
    ///
    /// `elsewhere` lists the other sections' keys, so that a key put in the wrong section gets a hint pointing
    /// to the right one.
    init(section: String, entries: [String: ConfigEntry], knownKeys: [String], file: String,
         elsewhere: [(section: String, keys: [String])] = []) throws(ConfigError) {
        self.section = section
        self.file = file
        self.entries = entries
        for key in entries.keys.sorted() where !knownKeys.contains(key) {
            let suggestion = KeySuggestion.closest(to: key, among: knownKeys).map { "\(section).\($0)" }
                ?? elsewhere.first { $0.keys.contains(key) }.map { "\($0.section).\(key)" }
            throw .unknownKey(key: "\(section).\(key)", source: entries[key]!.source, suggestion: suggestion,
                              known: knownKeys)
        }
    }

    /// The key's full dotted name.
    func name(_ key: String) -> String { "\(section).\(key)" }

    /// Rejects every present key that no getter asked for, naming what it does not apply to.
    func finish(context: String) throws(ConfigError) {
        for key in entries.keys.sorted() where !read.contains(key) {
            throw .notApplicable(key: name(key), source: entries[key]!.source, context: context)
        }
    }

    /// The error for an absent required key.
    func missing(_ key: String, expected: String) -> ConfigError {
        .missingKey(key: name(key), source: file, expected: expected)
    }

    /// The error for a present value outside its range.
    func outOfRange(_ key: String, _ requirement: String, _ value: String) -> ConfigError {
        .outOfRange(key: name(key), source: entries[key]?.source ?? file, requirement: requirement, value: value)
    }

    /// The raw entry, marked as read.
    mutating func entry(_ key: String) -> ConfigEntry? {
        read.insert(key)
        return entries[key]
    }

    mutating func string(_ key: String) throws(ConfigError) -> String? {
        guard let entry = entry(key) else { return nil }
        guard case .string(let value) = entry.value else { throw wrongType(key, entry, expected: "a string") }
        return value
    }

    /// A string that must not be empty (names and paths).
    mutating func nonEmptyString(_ key: String) throws(ConfigError) -> String? {
        guard let value = try string(key) else { return nil }
        guard !value.isEmpty else { throw outOfRange(key, "must not be empty", "\"\"") }
        return value
    }

    mutating func boolean(_ key: String) throws(ConfigError) -> Bool? {
        guard let entry = entry(key) else { return nil }
        guard case .boolean(let value) = entry.value else { throw wrongType(key, entry, expected: "a boolean") }
        return value
    }

    mutating func integer(_ key: String, atLeast minimum: Int) throws(ConfigError) -> Int? {
        guard let entry = entry(key) else { return nil }
        guard case .integer(let value) = entry.value else { throw wrongType(key, entry, expected: "an integer") }
        guard value >= minimum else { throw outOfRange(key, "must be ≥ \(minimum)", "\(value)") }
        return value
    }

    /// A number; integers are accepted (`lr = 1`) because TOML tells `1` and `1.0` apart and people do not.
    mutating func number(_ key: String, _ range: NumberRange) throws(ConfigError) -> Double? {
        guard let entry = entry(key) else { return nil }
        guard let value = Self.number(entry.value) else { throw wrongType(key, entry, expected: "a number") }
        try check(key, value, range)
        return value
    }

    /// A number stored as Float, checked to be representable as a finite Float.
    mutating func float(_ key: String, _ range: NumberRange) throws(ConfigError) -> Float? {
        guard let value = try number(key, range) else { return nil }
        guard Float(value).isFinite else { throw outOfRange(key, "must fit a 32-bit float", "\(value)") }
        return Float(value)
    }

    mutating func integers(_ key: String, atLeast minimum: Int) throws(ConfigError) -> [Int]? {
        guard let entry = entry(key) else { return nil }
        let elements = try arrayElements(key, entry, expected: "an array of integers")
        var values: [Int] = []
        for element in elements {
            guard case .integer(let value) = element else {
                throw wrongType(key, entry, found: "an array containing \(element.kind)", expected: "an array of integers")
            }
            guard value >= minimum else { throw outOfRange(key, "elements must be ≥ \(minimum)", "\(value)") }
            values.append(value)
        }
        return values
    }

    mutating func numbers(_ key: String, _ range: NumberRange) throws(ConfigError) -> [Double]? {
        guard let entry = entry(key) else { return nil }
        let elements = try arrayElements(key, entry, expected: "an array of numbers")
        var values: [Double] = []
        for element in elements {
            guard let value = Self.number(element) else {
                throw wrongType(key, entry, found: "an array containing \(element.kind)", expected: "an array of numbers")
            }
            try check(key, value, range)
            values.append(value)
        }
        return values
    }

    /// One of the names of `Choice`, listed in the error when the string is none of them.
    mutating func choice<Choice>(_ key: String, of type: Choice.Type) throws(ConfigError) -> Choice?
    where Choice: RawRepresentable & CaseIterable, Choice.RawValue == String {
        guard let value = try string(key) else { return nil }
        guard let choice = Choice(rawValue: value) else {
            throw .invalidChoice(key: name(key), source: entries[key]!.source, value: value,
                                 allowed: Choice.allCases.map(\.rawValue))
        }
        return choice
    }

    /// An array of tables (`[[model.layers]]`), each as a reader of its own named `key[index]`.
    mutating func tables(_ key: String, knownKeys: [String]) throws(ConfigError) -> [SectionReader]? {
        guard let entry = entry(key) else { return nil }
        let expected = "an array of tables ([[\(name(key))]])"
        var readers: [SectionReader] = []
        for (index, element) in try arrayElements(key, entry, expected: expected).enumerated() {
            guard case .table(let table) = element else {
                throw wrongType(key, entry, found: "an array containing \(element.kind)", expected: expected)
            }
            readers.append(try SectionReader(section: "\(name(key))[\(index)]",
                                             entries: table.mapValues { ConfigEntry(value: $0, source: entry.source) },
                                             knownKeys: knownKeys, file: file))
        }
        return readers
    }

    private func arrayElements(_ key: String, _ entry: ConfigEntry, expected: String) throws(ConfigError) -> [ConfigValue] {
        guard case .array(let elements) = entry.value else { throw wrongType(key, entry, expected: expected) }
        return elements
    }

    private func check(_ key: String, _ value: Double, _ range: NumberRange) throws(ConfigError) {
        guard value.isFinite else { throw outOfRange(key, "must be finite", "\(value)") }
        guard range.contains(value) else { throw outOfRange(key, range.requirement, "\(value)") }
    }

    private func wrongType(_ key: String, _ entry: ConfigEntry, found: String? = nil, expected: String) -> ConfigError {
        .wrongType(key: name(key), source: entry.source, found: found ?? entry.value.kind, expected: expected)
    }

    private static func number(_ value: ConfigValue) -> Double? {
        switch value {
        case .integer(let value): return Double(value)
        case .float(let value): return value
        default: return nil
        }
    }
}
