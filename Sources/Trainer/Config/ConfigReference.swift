/// The config reference: every key of every section with its type, default, allowed values and meaning.
///
/// Only the meanings are written down (ConfigKeyMeanings). Everything else is found by asking the loader itself:
/// each key is set to probe values in an otherwise minimal config, once per variant (model, optimizer, schedule,
/// layer type), and `ConfigLoader` says what it expected (a wrong type), what it requires (a value out of range,
/// a name that is not a choice) or that the key does not apply; the resolved text of the minimal config gives the
/// defaults, and leaving a key out tells whether it is required. So the reference says what the loader checks.
public enum ConfigReference {
    /// One key as the loader treats it.
    public struct Entry: Sendable {
        /// `run`, `optimizer`, `model.layers` (the keys of one `[[model.layers]]` table).
        public let section: String
        public let key: String
        /// What the loader expects: "an integer", "one of sgd, momentum, ...".
        public let type: String
        /// The requirements on its value ("≥ 1", "in [0, 1)"), empty when any value of the type goes.
        public let allowed: [String]
        /// The default (a TOML value, "none", "required" or "derived from other keys"), per group of variants.
        public let defaults: [(value: String, variants: [String])]
        /// The variants the key applies to; nil when it applies to every one (or the section has none).
        public let appliesTo: [String]?
        public let meaning: String
    }

    /// Every section in the loader's order, with the variants that change which keys apply.
    static var sections: [(name: String, keys: [String], selector: String?, variants: [String])] {
        TrainingConfig.schema.map { section, keys in
            switch section {
            case "model": (section, keys, "name", ModelSettings.Name.allCases.map(\.rawValue))
            case "optimizer": (section, keys, "name", OptimizerSettings.Name.allCases.map(\.rawValue))
            case "schedule": (section, keys, "name", ScheduleSettings.Name.allCases.map(\.rawValue))
            default: (section, keys, nil, [""])
            }
        } + [("model.layers", LayerTable.keys, "type", LayerTable.Kind.allCases.map(\.rawValue))]
    }

    /// Every key of every section, in the loader's order.
    public static func entries() -> [Entry] {
        sections.flatMap { section in
            section.keys.map { key in entry(section: section.name, key: key, selector: section.selector, variants: section.variants) }
        }
    }

    private static func entry(section: String, key: String, selector: String?, variants: [String]) -> Entry {
        var type = "", allowed: [String] = [], applying: [String] = [], defaults: [(value: String, variants: [String])] = []
        for variant in variants {
            let config = MinimalConfig(section: section, variant: variant)
            // An inline table is the wrong type for every key but the layer tables themselves.
            let typeProbe = config.error(setting: key, to: "{}")
            if case .notApplicable = typeProbe { continue }
            applying.append(variant)
            guard type.isEmpty else { continue }
            if case .wrongType(_, _, _, let expected) = typeProbe { type = expected }
            for probe in probes(for: type) {
                switch config.error(setting: key, to: probe) {
                case .invalidChoice(_, _, _, let names)?: type = "one of " + names.joined(separator: ", ")
                case .outOfRange(_, _, let requirement, _)?:
                    let requirement = requirement.replacingOccurrences(of: "must be ", with: "")
                        .replacingOccurrences(of: "must not be empty", with: "not empty")
                        .replacingOccurrences(of: "elements ", with: "each ")
                    if !allowed.contains(requirement) { allowed.append(requirement) }
                default: break
                }
            }
        }
        for variant in applying {
            // The selector's default is the variant the loader picks without it, whichever variant is probed.
            let config = MinimalConfig(section: section, variant: key == selector ? variants[0] : variant)
            let value: String
            if case .missingKey? = config.error(removing: key) {
                value = "required"
            } else if key == selector {
                value = config.resolvedValue(of: key, leftOut: true) ?? "none"
            } else {
                let first = config.resolvedValue(of: key), second = config.varied.resolvedValue(of: key)
                value = first == second ? first ?? "none" : "derived from other keys"
            }
            if let index = defaults.firstIndex(where: { $0.value == value }) {
                defaults[index].variants.append(variant)
            } else {
                defaults.append((value, [variant]))
            }
        }
        return Entry(section: section, key: key, type: type.isEmpty ? "a value" : type, allowed: allowed, defaults: defaults,
                     appliesTo: applying.count == variants.count ? nil : applying,
                     meaning: ConfigKeyMeanings.all["\(section).\(key)"] ?? "")
    }

    /// Meanings written for keys the loader does not know (left behind when a key was renamed or removed).
    public static var staleMeanings: [String] {
        let known = Set(sections.flatMap { section in section.keys.map { "\(section.name).\($0)" } })
        return ConfigKeyMeanings.all.keys.filter { !known.contains($0) }.sorted()
    }

    /// Values outside any sensible range, of the type the loader expects, that make it state its limits.
    private static func probes(for type: String) -> [String] {
        switch type {
        case "an integer": ["-1000000000", "1000000000000"]
        case "a number": ["-1e30", "1e30"]
        case "an array of integers": ["[-1000000000]"]
        case "an array of numbers": ["[-1e30]"]
        case "a string": ["\"?\"", "\"\""]
        default: []
        }
    }

    /// The reference as Markdown: a table per section.
    public static func markdown() -> String {
        var text = """
            # dtrain config reference

            Every key dtrain's config loader knows, written by `dtrain config --reference`: the types, allowed values,
            defaults and the variants a key applies to are what the loader itself answers when asked about probe
            configs, so this page cannot drift from it. "derived from other keys" means the default depends on
            other settings (the meaning says how). A key outside this list, a value of another type, out of its
            range or set for a variant it does not apply to is an error naming the key. `dtrain config FILE.toml`
            prints a config with every default filled in.

            """
        let all = entries()
        for (name, _, selector, variants) in sections {
            let rows = all.filter { $0.section == name }
            let varied = variants.count > 1
            text += name == "model.layers" ? "\n## [[model.layers]] (model.name = \"layers\")\n\n" : "\n## [\(name)]\n\n"
            if varied, let selector { text += "Which keys apply depends on `\(selector)`.\n\n" }
            text += varied ? "| key | type | default | allowed | for | meaning |\n| --- | --- | --- | --- | --- | --- |\n"
                : "| key | type | default | allowed | meaning |\n| --- | --- | --- | --- | --- |\n"
            for row in rows {
                let defaults = row.defaults.count == 1 ? code(row.defaults[0].value)
                    : row.defaults.map { "\(code($0.value)) (\($0.variants.joined(separator: ", ")))" }.joined(separator: "; ")
                var cells = ["`\(row.key)`", row.type, defaults, row.allowed.joined(separator: ", ")]
                if varied { cells.append(row.appliesTo?.joined(separator: ", ") ?? "all") }
                cells.append(row.meaning)
                text += "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n"
            }
        }
        return text
    }

    private static func code(_ value: String) -> String {
        ["required", "none", "derived from other keys"].contains(value) ? value : "`\(value)`"
    }
}
