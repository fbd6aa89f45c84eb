import ArgumentParser
import Data
import Foundation

/// `dtrain pack idx|imagefolder|synthetic ...`: writes datasets in dtrain's HDF5 layout (datasets/README.md).
struct Pack: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Convert or generate datasets in dtrain's HDF5 layout.",
                                                    subcommands: [IDX.self, ImageFolderTree.self, Synthetic.self])

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

    /// A folder of JPEG and PNG files per class (torchvision's ImageFolder layout) to a file of encoded images.
    struct ImageFolderTree: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "imagefolder",
            abstract: "Pack an ImageFolder tree (a folder of JPEG/PNG files per class) as encoded images.",
            discussion: """
                Classes are the root's subfolders in sorted order, as torchvision's ImageFolder numbers them. The
                files are stored as they are (layout version 2 in datasets/README.md); every one is decoded once to
                check it and to measure the mean and std. The output appears only when complete.
                """)

        @Option(help: "The folder holding one subfolder per class.") var root: String
        @Option(help: "The HDF5 file to write.") var output: String
        @Option(help: ArgumentHelp("Re-encode images whose shorter side is longer than N at N (JPEG).", valueName: "N"))
        var resizeShorter: Int?
        @Option(help: "JPEG quality of re-encoded images (1-100).") var quality: Int = 90
        @Flag(help: "Skip and count files that do not decode, instead of refusing the whole tree.") var skipBad = false
        @Option(help: "Decoding threads (default: every core).") var workers: Int = ProcessInfo.processInfo.activeProcessorCount

        func run() throws {
            try packing {
                var packer = ImageFolderPacker(folder: try ImageFolder(root: root), output: output)
                packer.resizeShorter = resizeShorter
                packer.quality = quality
                packer.skipUndecodable = skipBad
                packer.workers = max(1, workers)
                packer.progress = { done, total, rate in
                    FileHandle.standardError.write(String(format: "pack: %d / %d images (%.0f img/s)\n", done, total, rate)
                        .data(using: .utf8)!)
                }
                let summary = try packer.pack()
                for skipped in summary.skipped.prefix(10) {
                    FileHandle.standardError.write("pack: skipped \(skipped.path): \(skipped.reason)\n".data(using: .utf8)!)
                }
                print(String(format: "pack: %@: %d images of %d classes, %.1f MB, %d resized, %d skipped, %.1f s (%.0f img/s)",
                             output, summary.images, packer.folder.classNames.count, Double(summary.bytes) / 1e6,
                             summary.resized, summary.skipped.count, summary.seconds, Double(summary.images) / summary.seconds))
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
