import Data
import Foundation
import MPITestSupport
import Testing
import Trainer

/// Training on a packed ImageFolder of JPEG files: RandomResizedCrop and flip from Philox keyed by (seed, epoch,
/// index), so 1 and 2 ranks with the same global batch reach the same parameters, and the model learns.
@Suite(.serialized) struct EncodedImageTrainingTests {
    /// Reddish and bluish pictures of varied sizes, with per-image noise, as a two-class ImageFolder.
    static func writeTree(_ root: String, count: Int, seed: Int) throws {
        let codec = ImageCodec()
        for index in 0..<count {
            let label = index % 2
            let (width, height) = (40 + (index * 7 + seed) % 25, 32 + (index * 5 + seed) % 17)
            var pixels = [UInt8](repeating: 0, count: width * height * 3)
            for i in 0..<(width * height) {
                let noise = (i * 37 + index * 101 + seed * 13) % 60
                pixels[3 * i] = UInt8(label == 0 ? 150 + noise : 40 + noise)
                pixels[3 * i + 1] = UInt8(60 + (i / width + noise) % 80)
                pixels[3 * i + 2] = UInt8(label == 0 ? 40 + noise : 150 + noise)
            }
            let folder = root + "/class\(label)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let bytes = try codec.encodeJPEG(RGBImage(width: width, height: height, pixels: pixels))
            FileManager.default.createFile(atPath: folder + "/\(index).jpg", contents: Data(bytes))
        }
    }

    @Test func oneAndTwoRanksTrainAlikeOnEncodedImages() throws {
        let scratch = try TrainerRunSupport("encoded")
        defer { scratch.remove() }
        for (split, count, seed) in [("train", 128, 1), ("val", 40, 2)] {
            try Self.writeTree(scratch.path(split), count: count, seed: seed)
            _ = try ImageFolderPacker(folder: try ImageFolder(root: scratch.path(split)),
                                      output: scratch.path("\(split).h5")).pack()
        }
        var parameters: [Int: [String: [Float]]] = [:]
        var lines: [Int: String] = [:]
        for ranks in [1, 2] {
            let out = scratch.path("run\(ranks)")
            let config = try scratch.config("mlp\(ranks).toml", """
                [run]
                seed = 4
                max_steps = 24
                out_dir = "\(out)"
                [data]
                train = "\(scratch.path("train.h5"))"
                val = "\(scratch.path("val.h5"))"
                global_batch = 16
                image_size = 16
                resize = 18
                workers = 2
                [model]
                name = "mlp"
                hidden = [32]
                [optimizer]
                name = "momentum"
                lr = 0.02
                [log]
                every_steps = 8
                """)
            let result = try scratch.dtrain([config], ranks: ranks)
            #expect(result.status == 0, "\(ranks) ranks:\n\(result.stderr)")
            parameters[ranks] = try ModelFile.readParameters(from: out + "/model.h5")
            lines[ranks] = result.stdout.split(separator: "\n").last { $0.contains("validation:") }.map(String.init)
        }
        let one = try #require(parameters[1]), two = try #require(parameters[2])
        var worst = 0.0
        for (name, values) in one {
            let other = try #require(two[name])
            let scale = Double(values.map(abs).max() ?? 1)
            worst = max(worst, zip(values, other).map { Double(abs($0 - $1)) }.max()! / scale)
        }
        print("encoded images, 2 ranks vs 1 after 24 steps: worst relative parameter difference \(worst); \(lines[2] ?? "")")
        #expect(worst < 1e-4)
        // Red against blue: far above the 50% of guessing after 24 steps.
        let top1 = lines[1].flatMap { $0.range(of: "top-1 ").map { line in Double(lines[1]![line.upperBound...].prefix { $0 != "%" }) } } ?? nil
        #expect((top1 ?? 0) >= 90, "\(lines[1] ?? "no validation line")")
    }
}
