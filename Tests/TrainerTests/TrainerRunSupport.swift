import Data
import Foundation
import HDF5
import MPITestSupport

/// A scratch folder with small datasets and configs, and `dtrain` run under mpirun on them.
struct TrainerRunSupport {
    let directory: String

    init(_ name: String) throws {
        directory = NSTemporaryDirectory() + "dtrain-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { directory + "/" + name }

    /// A synthetic 1x28x28, 10-class dataset of `count` images.
    func synthetic(_ name: String, count: Int, seed: UInt64) throws -> String {
        let file = path(name)
        try Packer.packSynthetic(output: file, count: count, shape: [1, 28, 28], classes: 10, seed: seed)
        return file
    }

    /// Writes `text` as a config file and returns its path.
    func config(_ name: String, _ text: String) throws -> String {
        let file = path(name)
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    /// A LeNet-5 config on the given files, for `--set` to vary.
    func lenetConfig(train: String, validation: String, globalBatch: Int = 16, steps: Int = 50, out: String) -> String {
        """
        [run]
        seed = 3
        max_steps = \(steps)
        out_dir = "\(out)"
        [data]
        train = "\(train)"
        val = "\(validation)"
        global_batch = \(globalBatch)
        [model]
        name = "lenet5"
        activation = "relu"
        [optimizer]
        name = "momentum"
        lr = 0.02
        [log]
        every_steps = 10
        """
    }

    /// Runs `dtrain ARGUMENTS` with `ranks` ranks.
    func dtrain(_ arguments: [String], ranks: Int, timeout: Duration = .seconds(180)) throws -> MPIRun.Result {
        try MPIRun.run(executable: try MPIRun.product(named: "dtrain"), arguments: arguments, ranks: ranks, timeout: timeout)
    }

    /// Runs `dtrain ARGUMENTS` as a plain process, for the commands that start no MPI (plot, predict).
    func dtrainAlone(_ arguments: [String], timeout: Duration = .seconds(120)) throws -> MPIRun.Result {
        try ChildProcess(executable: try MPIRun.product(named: "dtrain"), arguments: arguments).wait(timeout: timeout)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}
