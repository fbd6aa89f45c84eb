import ArgumentParser
import Data
import Foundation

/// `dtrain bench-loader FILE.h5`: how fast the loader alone turns encoded images into network inputs.
struct BenchLoader: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-loader",
        abstract: "Measure the decoding loader alone: images per second, and per decode thread, on a packed file.",
        discussion: """
            Reads, decodes and transforms batches of the file's first images as a training run does (the whole
            file is cached in memory first, so the disk is not measured), with no model and no MPI.
            """)

    @Argument(help: "A file of encoded images (dtrain pack imagefolder).") var file: String
    @Option(help: "The side of the network input.") var imageSize: Int = 224
    /// The two pipelines a run uses.
    enum Pipeline: String, ExpressibleByArgument, CaseIterable {
        case randomResizedCrop = "random_resized_crop", centerCrop = "center_crop"
    }

    @Option(help: "random_resized_crop (training) or center_crop (evaluation: resize to image-size x 8 / 7, then the centre).")
    var transform: Pipeline = .randomResizedCrop
    @Option(help: "Decode threads.") var workers: Int = 1
    @Option(help: "Images per batch.") var batch: Int = 64
    @Option(help: "Timed batches (after one warm-up batch).") var batches: Int = 8

    func run() throws {
        do {
            let images = try EncodedImageFile(path: file)
            let kind: ImageTransform.Kind = switch transform {
            case .randomResizedCrop: .randomResizedCrop
            case .centerCrop: .resizeCenterCrop(resize: imageSize * 8 / 7)
            }
            guard imageSize >= 1, workers >= 1, batch >= 1, batches >= 1 else {
                throw ValidationError("--image-size, --workers, --batch and --batches must be at least 1")
            }
            let applied = ImageTransform(kind: kind, size: imageSize, seed: 1, mean: images.mean, std: images.std)
            let loader = try DecodingLoader(file: images, training: applied, evaluation: applied, workers: workers,
                                            cacheBytes: .max)
            func indices(_ batchIndex: Int) -> [Int] { (0..<batch).map { (batchIndex * batch + $0) % images.count } }
            _ = try loader.load(indices(0), epoch: 0)
            let start = Date()
            for batchIndex in 1...batches { _ = try loader.load(indices(batchIndex), epoch: 0) }
            let rate = Double(batches * batch) / Date().timeIntervalSince(start)
            let width = images.sizes.reduce(0) { $0 + $1.width } / images.count
            let height = images.sizes.reduce(0) { $0 + $1.height } / images.count
            print(String(format: "bench-loader: %@: %d images (mean %dx%d), %@ to %d, %d worker%@: %.0f img/s (%.0f per worker)",
                         file, images.count, width, height, transform.rawValue, imageSize, workers,
                         workers == 1 ? "" : "s", rate, rate / Double(workers)))
        } catch let error as ValidationError {
            throw error
        } catch {
            FileHandle.standardError.write("dtrain: \(error)\n".data(using: .utf8)!)
            throw ExitCode(2)
        }
    }
}
