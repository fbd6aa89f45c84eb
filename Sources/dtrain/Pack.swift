import ArgumentParser
import Data
import Foundation

/// `dtrain pack idx|synthetic ...`: writes datasets in dtrain's HDF5 layout (datasets/README.md).
struct Pack: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Convert or generate datasets in dtrain's HDF5 layout.",
                                                    subcommands: [IDX.self, Synthetic.self])

    /// MNIST-style IDX files (plain or gzip) to HDF5.
    struct IDX: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pack IDX images and labels (MNIST, Fashion-MNIST).")

        @Option(help: "The IDX image file (idx3-ubyte, optionally .gz).") var images: String
        @Option(help: "The IDX label file (idx1-ubyte, optionally .gz).") var labels: String
        @Option(help: "The HDF5 file to write.") var output: String
        @Option(help: "Class names, comma-separated, in label order.") var classes: String
        @Option(help: "Where the data came from (stored in the file).") var source: String = ""

        func run() throws {
            try packing {
                try Packer.packIDX(images: images, labels: labels, output: output,
                                   classNames: classes.split(separator: ",").map(String.init), source: source)
            }
        }
    }

    /// A deterministic, learnable synthetic dataset of any image shape.
    struct Synthetic: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Generate a synthetic dataset (benchmarks, smoke runs).")

        @Option(help: "The HDF5 file to write.") var output: String
        @Option(help: "Number of images.") var count: Int
        @Option(help: "Image shape C,H,W, e.g. 3,224,224.") var shape: String
        @Option(help: "Number of classes.") var classes: Int
        @Option(help: "Seed of the generator.") var seed: UInt64 = 0

        func run() throws {
            let dimensions = shape.split(separator: ",").compactMap { Int($0) }
            guard dimensions.count == 3, dimensions.allSatisfy({ $0 > 0 }) else {
                throw ValidationError("--shape \(shape): expected three positive integers C,H,W")
            }
            try packing {
                try Packer.packSynthetic(output: output, count: count, shape: dimensions, classes: classes, seed: seed)
            }
        }
    }
}

/// Runs a packer, printing its error as one line with exit status 2.
private func packing(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch {
        FileHandle.standardError.write("dtrain: \(error)\n".data(using: .utf8)!)
        throw ExitCode(2)
    }
}
