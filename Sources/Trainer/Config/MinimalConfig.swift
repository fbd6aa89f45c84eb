/// The smallest config the loader accepts for one variant of one section (a model, optimizer, schedule or
/// `[[model.layers]]` type), optionally with one key set to a probe value or left out: what ConfigReference asks
/// the loader about.
struct MinimalConfig {
    /// The section probed: `optimizer`, or `model.layers` for the keys of a layer table.
    let section: String
    /// The variant of that section (`adamw`, `conv2d`), or "" for a section without variants.
    let variant: String
    /// Other values for the required keys, to tell a default that follows another key from a fixed one.
    private var alternative = false

    init(section: String, variant: String) {
        (self.section, self.variant) = (section, variant)
    }

    /// The same config with other values for its required keys.
    var varied: MinimalConfig {
        var config = self
        config.alternative = true
        return config
    }

    /// The loader's error for this config with `key` of the probed section set to the TOML `value`, or nil.
    func error(setting key: String, to value: String) -> ConfigError? {
        error(in: text(setting: (key, value)))
    }

    /// The loader's error for this config without `key` (nil when the key is not in it, or it loads without).
    func error(removing key: String) -> ConfigError? {
        let layerTables = section == "model" && key == "layers" && variant == "layers"
        guard layerTables || tables().contains(where: { $0.name == section && $0.lines.contains { $0.key == key } }) else {
            return nil
        }
        return error(in: text(removing: key))
    }

    /// The value the resolved config gives `key` of the probed section, as TOML, with `key` as the minimal config
    /// has it or left out; nil when the resolved config says it is unset.
    func resolvedValue(of key: String, leftOut: Bool = false) -> String? {
        let text = leftOut ? text(removing: key) : text()
        guard let resolved = try? ConfigLoader.parse(text: text, file: "reference.toml").resolvedText else { return nil }
        let header = section == "model.layers" ? "[[model.layers]]" : "[\(section)]"
        var inSection = false
        for line in resolved.split(separator: "\n") {
            if line.hasPrefix("[") { inSection = line == header }
            if inSection, line.hasPrefix("\(key) = ") { return String(line.dropFirst(key.count + 3)) }
        }
        return nil
    }

    private func error(in text: String) -> ConfigError? {
        do {
            _ = try ConfigLoader.parse(text: text, file: "reference.toml")
            return nil
        } catch {
            return error
        }
    }

    /// The sections and `[[model.layers]]` tables with their required keys, in the order the loader reads them.
    private func tables() -> [(name: String, lines: [(key: String, value: String)])] {
        let model = section == "model" ? variant : section == "model.layers" ? "layers" : "lenet5"
        let optimizer = section == "optimizer" ? variant : "sgd"
        let schedule = section == "schedule" ? variant : "constant"
        var scheduleLines = [("name", "\"\(schedule)\"")]
        if schedule == "step" { scheduleLines.append(("step_epochs", alternative ? "2" : "1")) }
        if schedule == "multistep" { scheduleLines.append(("milestones", alternative ? "[2]" : "[1]")) }
        var result: [(name: String, lines: [(key: String, value: String)])] = [
            ("run", []),
            ("data", [("train", "\"train.h5\""), ("global_batch", alternative ? "48" : "32")]),
            ("model", [("name", "\"\(model)\"")]),
            ("optimizer", [("name", "\"\(optimizer)\""), ("lr", alternative ? "0.2" : "0.1")]),
            ("schedule", scheduleLines),
            ("checkpoint", []), ("log", []), ("comm", []),
        ]
        if section == "model.layers" {
            var layer = [("type", "\"\(variant)\"")]
            if ["dense", "conv2d"].contains(variant) { layer.append(("out", alternative ? "6" : "4")) }
            if ["conv2d", "maxpool", "avgpool"].contains(variant) { layer.append(("kernel", alternative ? "5" : "3")) }
            result.append(("model.layers", layer))
        } else if model == "layers" {
            result += [("model.layers", [("type", "\"flatten\"")]), ("model.layers", [("type", "\"dense\""), ("out", "10")])]
        }
        return result
    }

    private func text(setting probe: (key: String, value: String)? = nil, removing removed: String? = nil) -> String {
        var tables = tables()
        // model.layers, set or left out, stands for every layer table.
        if section == "model" && (probe?.key == "layers" || removed == "layers") { tables.removeAll { $0.name == "model.layers" } }
        var text = ""
        for (name, lines) in tables {
            text += name == "model.layers" ? "[[model.layers]]\n" : "[\(name)]\n"
            let probed = name == section
            for (key, value) in lines where !(probed && (key == removed || key == probe?.key)) {
                text += "\(key) = \(value)\n"
            }
            if probed, let probe { text += "\(probe.key) = \(probe.value)\n" }
        }
        return text
    }
}
