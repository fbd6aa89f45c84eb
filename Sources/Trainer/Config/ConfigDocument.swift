import TOMLKit

/// A parsed config file with overrides applied: sections of keyed values, each remembering its source.
struct ConfigDocument {
    /// One section's values and where the section itself came from.
    struct Section {
        var source: String
        var entries: [String: ConfigEntry]
    }

    /// The config file's path as given, named in error messages.
    let file: String
    private var sections: [String: Section] = [:]

    /// Parses `text` (the contents of `file`) as TOML; every top-level entry must be a section.
    init(text: String, file: String) throws(ConfigError) {
        self.file = file
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw .malformedTOML(path: file, line: error.source.begin.line, column: error.source.begin.column,
                                 reason: error.description)
        } catch {
            throw .malformedTOML(path: file, line: 0, column: 0, reason: "\(error)")
        }
        for (name, node) in table {
            let value = ConfigValue(node)
            guard case .table(let entries) = value else {
                throw Self.misplacedKey(name, value, source: file)
            }
            sections[name] = Section(source: file, entries: entries.mapValues { ConfigEntry(value: $0, source: file) })
        }
    }

    /// Sets the override's key, adding its section and key when the file lacks them.
    mutating func apply(_ override: ConfigOverride) {
        sections[override.section, default: Section(source: override.source, entries: [:])]
            .entries[override.key] = ConfigEntry(value: override.value, source: override.source)
    }

    /// Rejects any section not in `schema`, suggesting the closest known name.
    func checkSections(against schema: [(section: String, keys: [String])]) throws(ConfigError) {
        let known = schema.map(\.section)
        for name in sections.keys.sorted() where !known.contains(name) {
            throw .unknownSection(section: name, source: sections[name]!.source,
                                  suggestion: KeySuggestion.closest(to: name, among: known))
        }
    }

    /// A reader over one section (empty when the file has none), checked against the schema's keys.
    func reader(for section: String, schema: [(section: String, keys: [String])]) throws(ConfigError) -> SectionReader {
        let keys = schema.first { $0.section == section }?.keys ?? []
        return try SectionReader(section: section, entries: sections[section]?.entries ?? [:], knownKeys: keys,
                                 file: file, elsewhere: schema.filter { $0.section != section })
    }

    /// The error for a top-level `key = value` outside any section: a hint names the section that has such a key.
    private static func misplacedKey(_ name: String, _ value: ConfigValue, source: String) -> ConfigError {
        let schema = TrainingConfig.schema
        if schema.contains(where: { $0.section == name }) {
            return .wrongType(key: name, source: source, found: value.kind, expected: "a table ([\(name)])")
        }
        let home = schema.first { $0.keys.contains(name) }
        return .unknownKey(key: name, source: source, suggestion: home.map { "\($0.section).\(name)" },
                           known: schema.map { "[\($0.section)]" })
    }
}
