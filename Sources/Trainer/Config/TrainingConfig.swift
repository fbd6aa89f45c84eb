/// A whole experiment as one config file describes it: run, data, model, optimizer, schedule, checkpoints, logs
/// and communication.
///
/// Every setting has been checked and every default filled in; `resolvedText` writes all of it back as TOML.
public struct TrainingConfig: Sendable, Equatable {
    /// `[run]`: name, seed, length, output directory.
    public var run: RunSettings
    /// `[data]`: files and batch sizes.
    public var data: DataSettings
    /// `[model]`: the architecture.
    public var model: ModelSettings
    /// `model.init`: a model file whose parameters and buffers a new run starts from (fine-tuning); a classifier of
    /// another size is initialised afresh. Default none: the initializers' draws from the seed.
    public var initialization: String?
    /// `model.sync_bn` (default false): batch norms train on the statistics of the global batch, summed over the
    /// ranks in forward and backward, instead of each rank's slice; results then match one rank on the global batch.
    public var syncBatchNorm: Bool
    /// `[optimizer]`: the update rule.
    public var optimizer: OptimizerSettings
    /// `[schedule]`: the learning rate over time.
    public var schedule: ScheduleSettings
    /// `[checkpoint]`: when to save and how many to keep.
    public var checkpoint: CheckpointSettings
    /// `[log]`: how often to report.
    public var log: LogSettings
    /// `[comm]`: how collectives treat late ranks.
    public var comm: CommSettings

    /// A config from its sections; sections not given take their defaults.
    public init(run: RunSettings = RunSettings(), data: DataSettings, model: ModelSettings,
                optimizer: OptimizerSettings, schedule: ScheduleSettings = ScheduleSettings(),
                checkpoint: CheckpointSettings = CheckpointSettings(), log: LogSettings = LogSettings(),
                comm: CommSettings = CommSettings(), initialization: String? = nil,
                syncBatchNorm: Bool = false) {
        self.run = run
        self.initialization = initialization
        self.data = data
        self.model = model
        self.syncBatchNorm = syncBatchNorm
        self.optimizer = optimizer
        self.schedule = schedule
        self.checkpoint = checkpoint
        self.log = log
        self.comm = comm
    }

    /// The sections in the order they are read and written, with the keys each knows.
    static let schema: [(section: String, keys: [String])] = [
        ("run", RunSettings.keys), ("data", DataSettings.keys), ("model", ModelSettings.keys),
        ("optimizer", OptimizerSettings.keys), ("schedule", ScheduleSettings.keys),
        ("checkpoint", CheckpointSettings.keys), ("log", LogSettings.keys), ("comm", CommSettings.keys),
    ]

    /// Reads and checks every section of `document`, in schema order.
    init(document: ConfigDocument) throws(ConfigError) {
        let schema = Self.schema
        try document.checkSections(against: schema)
        run = try RunSettings(from: try document.reader(for: "run", schema: schema))
        data = try DataSettings(from: try document.reader(for: "data", schema: schema))
        var modelSection = try document.reader(for: "model", schema: schema)
        initialization = try modelSection.nonEmptyString("init")
        syncBatchNorm = try modelSection.boolean("sync_bn") ?? false
        model = try ModelSettings(from: modelSection)
        optimizer = try OptimizerSettings(from: try document.reader(for: "optimizer", schema: schema))
        schedule = try ScheduleSettings(from: try document.reader(for: "schedule", schema: schema))
        checkpoint = try CheckpointSettings(from: try document.reader(for: "checkpoint", schema: schema))
        log = try LogSettings(from: try document.reader(for: "log", schema: schema))
        comm = try CommSettings(from: try document.reader(for: "comm", schema: schema))
    }

    /// The complete config as TOML: every section and key in a fixed order, defaults included, unset optional
    /// settings as comments. Loading it again gives an equal config.
    public var resolvedText: String {
        var writer = TOMLWriter(header: ["dtrain config with every setting resolved, defaults included."])
        run.write(to: &writer)
        data.write(to: &writer)
        model.write(to: &writer, initialization: initialization, syncBatchNorm: syncBatchNorm)
        optimizer.write(to: &writer)
        schedule.write(to: &writer)
        checkpoint.write(to: &writer)
        log.write(to: &writer)
        comm.write(to: &writer)
        return writer.text
    }

    /// A stable 64-bit hash of `resolvedText` (FNV-1a), equal across processes and machines for equal configs,
    /// which ranks compare at start-up to make sure they all run the same experiment.
    ///
    /// Swift's `Hasher` is seeded randomly per process, so it cannot serve here.
    public var fingerprint: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in resolvedText.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }
}
