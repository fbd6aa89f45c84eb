import Foundation

/// The `[run]` section: what the run is called, its seed, how long it lasts and where its outputs go.
public struct RunSettings: Sendable, Equatable {
    /// The run's name (`name`, default "run").
    public var name: String
    /// The seed of every random draw: initialisation, sampling order, augmentation, dropout (`seed`, default 0).
    public var seed: UInt64
    /// The number of passes over the training set (`epochs` ≥ 1, default 1).
    public var epochs: Int
    /// An optimizer step count at which to stop before the epochs are done (`max_steps`, default none).
    public var maxSteps: Int?
    /// Where logs, metrics and checkpoints go (`out_dir`, default `runs/<name>`).
    public var outputDirectory: String

    /// Settings with the given values; the output directory defaults to `runs/<name>`.
    public init(name: String = "run", seed: UInt64 = 0, epochs: Int = 1, maxSteps: Int? = nil,
                outputDirectory: String? = nil) {
        self.name = name
        self.seed = seed
        self.epochs = epochs
        self.maxSteps = maxSteps
        self.outputDirectory = outputDirectory ?? "runs/\(name)"
    }

    static let keys = ["name", "seed", "epochs", "max_steps", "out_dir"]

    /// Throws if the output directory cannot be created because a file stands where it or one of its parents must
    /// be; the system's own error ("File exists") would not say which setting is wrong.
    public func checkOutputDirectory() throws(ConfigError) {
        var path = outputDirectory
        var isDirectory: ObjCBool = false
        while !path.isEmpty, !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            path = (path as NSString).deletingLastPathComponent
        }
        if !path.isEmpty, !isDirectory.boolValue {
            throw .notADirectory(key: "run.out_dir", path: outputDirectory, blocking: path)
        }
    }

    init(from section: SectionReader) throws(ConfigError) {
        var section = section
        let name = try section.nonEmptyString("name") ?? "run"
        // TOML integers are signed 64-bit, so a seed from a file is at most Int64.max.
        let seed = UInt64(try section.integer("seed", atLeast: 0) ?? 0)
        self.init(name: name, seed: seed, epochs: try section.integer("epochs", atLeast: 1) ?? 1,
                  maxSteps: try section.integer("max_steps", atLeast: 1),
                  outputDirectory: try section.nonEmptyString("out_dir"))
        try section.finish(context: "[run]")
    }

    func write(to writer: inout TOMLWriter) {
        writer.section("run")
        writer.set("name", name)
        writer.set("seed", seed)
        writer.set("epochs", epochs)
        writer.set("max_steps", maxSteps)
        writer.set("out_dir", outputDirectory)
    }
}
