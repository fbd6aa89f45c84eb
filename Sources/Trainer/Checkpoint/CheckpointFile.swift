import Foundation
import HDF5
import NN

/// Checkpoint files: writing them atomically, reading and verifying them, and finding the newest good one.
///
/// The layout is documented in datasets/README.md ("Checkpoint layout") so that h5py can read it.
public enum CheckpointFile {
    /// The layout version written to, and required of, the `version` attribute.
    public static let formatVersion = 1
    /// The value of the `format` attribute.
    static let formatName = "dtrain-checkpoint"
    /// The groups holding tensors, in the (sorted) order the checksum visits them.
    static let groups = ["buffers", "optimizer", "parameters"]
    /// The largest chunk in elements (1 MiB of float32): small enough that Fletcher-32 pins damage to a region,
    /// large enough that the per-chunk index stays small for a 25M-parameter model.
    static let chunkElements = 1 << 18

    /// Rank 0 only. Writes <directory>/ckpt-<step>.h5 atomically: write ckpt-<step>.h5.tmp, flush + fsync + close,
    /// rename, fsync the directory, then write `latest` (a text file holding the file name, itself via tmp + rename),
    /// then delete all but the newest `keep` ckpt-*.h5 (never the one just written). Returns the path, its size in
    /// bytes and the seconds taken.
    ///
    /// "Newest" follows the run, not the file names: checkpoints of higher steps than the one written are left
    /// over from a timeline the run abandoned when it resumed from an earlier checkpoint, so they are deleted.
    public static func write(model: Model, optimizer: OptimizerState, state: CheckpointState, directory: String,
                             keep: Int) throws(CheckpointError) -> (path: String, bytes: Int, seconds: Double) {
        precondition(keep >= 1, "CheckpointFile.write: keep \(keep) must be at least 1")
        let start = ContinuousClock.now
        let name = fileName(step: state.step)
        let path = directory + "/" + name, temporary = path + ".tmp"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .writeFailed(file: path, detail: "creating the directory: \(error.localizedDescription)")
        }
        do {
            try writeContents(model: model, optimizer: optimizer, state: state, to: temporary)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw .writeFailed(file: path, detail: error.description)
        }
        try synchronize(temporary)
        try rename(temporary, to: path)
        try synchronize(directory)
        try replace(directory + "/latest", with: name + "\n")
        try prune(directory, written: state.step, keep: keep)
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        return (path, bytes, (ContinuousClock.now - start) / .seconds(1))
    }

    /// Reads and verifies one file completely (format version, every dataset's checksum, attributes present).
    public static func read(_ path: String) throws(CheckpointError) -> Checkpoint {
        guard FileManager.default.fileExists(atPath: path) else { throw .notFound(file: path) }
        let file: HDF5File
        let attributes: HDF5Attributes
        do {
            file = try HDF5File.open(path)
            attributes = try file.attributes
        } catch {
            throw .unreadable(file: path, detail: detail(of: error))
        }
        let format = (try? attributes.read("format", as: String.self)) ?? ""
        guard format == formatName else { throw .wrongFormat(file: path, found: format) }
        let version = try integer("version", attributes, path)
        guard version == formatVersion else { throw .unsupportedVersion(file: path, found: version) }

        let seedText = try string("seed", attributes, path)
        guard let seed = UInt64(seedText) else { throw .missingAttribute(file: path, name: "seed") }
        var metrics: [String: Double] = [:]
        if attributes.contains("metric_names") || attributes.contains("metric_values") {
            guard let names = try? attributes.read("metric_names", as: [String].self) else {
                throw .missingAttribute(file: path, name: "metric_names")
            }
            guard let values = try? attributes.read("metric_values", as: [Double].self), values.count == names.count
            else { throw .missingAttribute(file: path, name: "metric_values") }
            metrics = Dictionary(zip(names, values)) { first, _ in first }
        }
        let state = CheckpointState(
            step: try integer("step", attributes, path), epoch: try integer("epoch", attributes, path),
            stepInEpoch: try integer("step_in_epoch", attributes, path), seed: seed,
            worldSize: try integer("world_size", attributes, path),
            globalBatch: try integer("global_batch", attributes, path),
            configText: try string("config", attributes, path), metrics: metrics)
        let optimizerStep = try integer("optimizer_step", attributes, path)
        let stored = try string("checksum", attributes, path)

        var checksum = CheckpointChecksum()
        var tensors: [String: (values: [Float], shape: [Int])] = [:]
        for group in groups {
            let opened: HDF5Group
            do { opened = try file.openGroup(group) } catch { throw .missingDataset(file: path, name: group) }
            let names: [String]
            do { names = try opened.memberNames() } catch { throw .unreadable(file: path, detail: detail(of: error)) }
            for name in names.sorted(by: byteOrder) {
                let fullName = group + "/" + name
                let values: [Float], shape: [Int]
                do {
                    let dataset = try opened.openDataset(name)
                    shape = dataset.shape
                    values = try dataset.readAll(as: Float.self)
                } catch {
                    throw .damagedDataset(file: path, dataset: fullName, detail: readFailureDetail(error))
                }
                checksum.add(fullName)
                checksum.add(shape.map(String.init).joined(separator: ","))
                values.withUnsafeBufferPointer { checksum.add($0) }
                tensors[fullName] = (values, shape)
            }
        }
        for (name, value) in canonicalAttributes(state: state, optimizerStep: optimizerStep) {
            checksum.add(name)
            checksum.add(value)
        }
        guard checksum.hex == stored else { throw .checksumMismatch(file: path, stored: stored, computed: checksum.hex) }

        func group(_ group: String) -> [String: (values: [Float], shape: [Int])] {
            Dictionary(uniqueKeysWithValues: tensors.compactMap { key, value in
                key.hasPrefix(group + "/") ? (String(key.dropFirst(group.count + 1)), value) : nil
            })
        }
        let parameters = group("parameters"), buffers = group("buffers"), optimizer = group("optimizer")
        let parameterCount = parameters.values.reduce(0) { $0 + $1.values.count }
        for (name, buffer) in optimizer.sorted(by: { $0.key < $1.key }) where buffer.values.count != parameterCount {
            throw .inconsistent(file: path, reason: "optimizer/\(name) has \(buffer.values.count) values, "
                                    + "the parameters \(parameterCount)")
        }
        return Checkpoint(path: path, state: state, parameters: parameters.mapValues(\.values),
                          parameterShapes: parameters.mapValues(\.shape), buffers: buffers.mapValues(\.values),
                          bufferShapes: buffers.mapValues(\.shape),
                          optimizer: OptimizerState(step: optimizerStep, buffers: optimizer.mapValues(\.values)))
    }

    /// The newest checkpoint in `directory` that verifies, trying `latest` first and then every ckpt-<step>.h5 from
    /// the highest step down; each damaged or unreadable candidate is reported through `report` ("ckpt-600.h5 is
    /// damaged (checksum of parameters/fc.weight does not match); using an earlier checkpoint") and skipped. nil
    /// when there is none. Leftover *.tmp files are ignored (and may be deleted).
    public static func newestValid(in directory: String, report: (String) -> Void) -> Checkpoint? {
        var candidates: [String] = []
        var latest: String?
        let latestPath = directory + "/latest"
        if FileManager.default.fileExists(atPath: latestPath) {
            let text = ((try? String(contentsOfFile: latestPath, encoding: .utf8)) ?? "")
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if step(ofFileNamed: text) != nil {
                latest = text
                candidates.append(text)
            } else {
                report("latest holds \"\(text)\", not a checkpoint file name; using an earlier checkpoint")
            }
        }
        candidates += checkpointSteps(in: directory).sorted(by: >).map(fileName(step:))
        var tried: Set<String> = []
        for name in candidates where tried.insert(name).inserted {
            do {
                return try read(directory + "/" + name)
            } catch .notFound where name == latest {
                report("latest names \(name), which does not exist; using an earlier checkpoint")
            } catch {
                report("\(name) is damaged (\(error.reason)); using an earlier checkpoint")
            }
        }
        return nil
    }

    // MARK: Writing

    /// The shape a tensor is stored with: a scalar (num_batches_tracked) as one element.
    static func storedShape(_ shape: [Int]) -> [Int] {
        shape.isEmpty ? [1] : shape
    }

    static func fileName(step: Int) -> String {
        "ckpt-\(step).h5"
    }

    private static func writeContents(model: Model, optimizer: OptimizerState, state: CheckpointState,
                                      to path: String) throws(HDF5Error) {
        let file = try HDF5File.create(path)
        var checksum = CheckpointChecksum()
        func store(_ values: UnsafeBufferPointer<Float>, shape: [Int], as fullName: String) throws(HDF5Error) {
            let dataset = try file.createDataset(fullName, type: .float32, shape: shape, chunk: chunkShape(shape),
                                                 fletcher32: true)
            try dataset.write(rows: 0..<shape[0], from: values)
            checksum.add(fullName)
            checksum.add(shape.map(String.init).joined(separator: ","))
            checksum.add(values)
        }
        for group in groups { _ = try file.createGroup(group) }
        // Groups in sorted order and names sorted within each: the order `read` recomputes the checksum in.
        for segment in model.bufferSegments.sorted(by: { byteOrder($0.name, $1.name) }) {
            try store(UnsafeBufferPointer(start: model.buffers.pointer + segment.offset, count: segment.count),
                      shape: storedShape(segment.shape), as: "buffers/" + segment.name)
        }
        for name in optimizer.buffers.keys.sorted(by: byteOrder) {
            try optimizer.buffers[name]!.withUnsafeBufferPointer { (values) throws(HDF5Error) in
                try store(values, shape: [values.count], as: "optimizer/" + name)
            }
        }
        for segment in model.parameterSegments.sorted(by: { byteOrder($0.name, $1.name) }) {
            try store(UnsafeBufferPointer(start: model.parameters.pointer + segment.offset, count: segment.count),
                      shape: storedShape(segment.shape), as: "parameters/" + segment.name)
        }

        let attributes = try file.attributes
        try attributes.set("format", formatName)
        try attributes.set("version", formatVersion)
        try attributes.set("step", state.step)
        try attributes.set("epoch", state.epoch)
        try attributes.set("step_in_epoch", state.stepInEpoch)
        // Decimal text: HDF5 integer attributes read back as Int64, which cannot hold every UInt64 seed.
        try attributes.set("seed", String(state.seed))
        try attributes.set("world_size", state.worldSize)
        try attributes.set("global_batch", state.globalBatch)
        try attributes.set("optimizer_step", optimizer.step)
        try attributes.set("config", state.configText)
        if !state.metrics.isEmpty {
            let names = state.metrics.keys.sorted(by: byteOrder)
            try attributes.set("metric_names", names)
            try attributes.set("metric_values", names.map { state.metrics[$0]! })
        }
        for (name, value) in canonicalAttributes(state: state, optimizerStep: optimizer.step) {
            checksum.add(name)
            checksum.add(value)
        }
        try attributes.set("checksum", checksum.hex)
        try file.flush()
        try file.close()
    }

    /// Chunks of whole rows, at most `chunkElements` each (one row when a row alone is larger).
    private static func chunkShape(_ shape: [Int]) -> [Int] {
        let rowCount = max(shape.dropFirst().reduce(1, *), 1)
        let rows = max(1, min(shape[0], chunkElements / rowCount))
        return [rows] + shape.dropFirst().map { max($0, 1) }
    }

    /// The attributes the checksum covers, as (name, text) in name order; metrics as `metric:<name>` with the
    /// float64's bit pattern in hex, so that the text is exact.
    static func canonicalAttributes(state: CheckpointState, optimizerStep: Int) -> [(String, String)] {
        var pairs: [(String, String)] = [
            ("config", state.configText), ("epoch", String(state.epoch)), ("format", formatName),
            ("global_batch", String(state.globalBatch)), ("optimizer_step", String(optimizerStep)),
            ("seed", String(state.seed)), ("step", String(state.step)), ("step_in_epoch", String(state.stepInEpoch)),
            ("version", String(formatVersion)), ("world_size", String(state.worldSize)),
        ]
        pairs += state.metrics.map { ("metric:" + $0.key, String($0.value.bitPattern, radix: 16)) }
        return pairs.sorted { byteOrder($0.0, $1.0) }
    }

    /// Orders names by their UTF-8 bytes, as Python's `sorted` does for ASCII names.
    static func byteOrder(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Pushes a file's or directory's data to the disk, so that a rename never exposes unwritten data.
    private static func synchronize(_ path: String) throws(CheckpointError) {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw .writeFailed(file: path, detail: "opening to sync: \(errorText())") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw .writeFailed(file: path, detail: "fsync: \(errorText())") }
    }

    private static func rename(_ source: String, to destination: String) throws(CheckpointError) {
        guard Foundation.rename(source, destination) == 0 else {
            throw .writeFailed(file: destination, detail: "renaming \(source): \(errorText())")
        }
    }

    /// Replaces the small text file at `path` atomically (tmp, fsync, rename, fsync the directory).
    private static func replace(_ path: String, with text: String) throws(CheckpointError) {
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)) else {
            throw .writeFailed(file: temporary, detail: "creating the file")
        }
        try synchronize(temporary)
        try rename(temporary, to: path)
        try synchronize((path as NSString).deletingLastPathComponent)
    }

    /// Deletes checkpoints beyond the newest `keep` (counting the one just written at step `written`), those of
    /// higher steps (an abandoned timeline), and leftover temporary files of interrupted writes.
    private static func prune(_ directory: String, written: Int, keep: Int) throws(CheckpointError) {
        let older = checkpointSteps(in: directory).filter { $0 < written }.sorted(by: >)
        let doomed = checkpointSteps(in: directory).filter { $0 > written } + older.dropFirst(keep - 1)
        var names = doomed.map(fileName(step:))
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        names += entries.filter { $0.hasSuffix(".h5.tmp") && step(ofFileNamed: String($0.dropLast(4))) != nil }
        for name in names {
            do {
                try FileManager.default.removeItem(atPath: directory + "/" + name)
            } catch {
                throw .writeFailed(file: directory + "/" + name, detail: "deleting: \(error.localizedDescription)")
            }
        }
    }

    // MARK: Reading

    /// The steps of the ckpt-<step>.h5 files in `directory`.
    static func checkpointSteps(in directory: String) -> [Int] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).compactMap(step(ofFileNamed:))
    }

    /// The step of a file named ckpt-<step>.h5, or nil for any other name (paths included, so `latest` cannot
    /// point outside its directory).
    static func step(ofFileNamed name: String) -> Int? {
        guard name.hasPrefix("ckpt-"), name.hasSuffix(".h5") else { return nil }
        let digits = name.dropFirst(5).dropLast(3)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return Int(digits)
    }

    private static func integer(_ name: String, _ attributes: HDF5Attributes,
                                _ path: String) throws(CheckpointError) -> Int {
        guard let value = try? attributes.read(name, as: Int.self) else {
            throw .missingAttribute(file: path, name: name)
        }
        return value
    }

    private static func string(_ name: String, _ attributes: HDF5Attributes,
                               _ path: String) throws(CheckpointError) -> String {
        guard let value = try? attributes.read(name, as: String.self) else {
            throw .missingAttribute(file: path, name: name)
        }
        return value
    }

    /// Empty when HDF5 reports a failed checksum (the error then says "checksum ... does not match"), else HDF5's
    /// message.
    private static func readFailureDetail(_ error: HDF5Error) -> String {
        let text = error.description.lowercased()
        return text.contains("checksum") || text.contains("fletcher") ? "" : detail(of: error)
    }

    /// HDF5's message without the file's path, which the checkpoint error names already.
    private static func detail(of error: HDF5Error) -> String {
        var text = Substring(error.description)
        for prefix in [error.file + ": ", "/: "] where text.hasPrefix(prefix) { text = text.dropFirst(prefix.count) }
        return String(text)
    }

    private static func errorText() -> String {
        String(cString: strerror(errno))
    }
}
