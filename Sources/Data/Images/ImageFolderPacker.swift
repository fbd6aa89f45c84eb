import Foundation

/// Packs an ImageFolder tree into a dataset file of encoded images (layout version 2): the JPEG and PNG files'
/// own bytes, so a set stays the size of its files and every crop stays possible.
///
/// Every image is decoded on the way, on `workers` threads, to check it, to record its size and to accumulate the
/// per-channel mean and standard deviation (from the image decoded at a reduced DCT scale, at least 64 pixels on
/// the shorter side: the statistics of a mean do not need every pixel). A tree whose every image is grey (equal
/// R, G and B in every decoded pixel) gets one channel's mean and std, which makes its samples [1, H, W], as the
/// IDX packer's are; any colour image makes them [3, H, W]. With `resizeShorter` an image whose
/// shorter side is longer is resized to it with Pillow's bilinear filter (the longer side as torchvision's
/// Resize computes it) and stored as a JPEG of `quality`.
public struct ImageFolderPacker {
    /// The tree to pack.
    public let folder: ImageFolder
    /// Where the dataset file goes.
    public let output: String
    /// Re-encode images whose shorter side is longer than this, or keep every file as it is (nil).
    public var resizeShorter: Int?
    /// JPEG quality of re-encoded images.
    public var quality = 90
    /// Skip (and count) files that do not decode instead of refusing the whole folder.
    public var skipUndecodable = false
    /// Decoding threads.
    public var workers = ProcessInfo.processInfo.activeProcessorCount
    /// Called about every two seconds and at the end with the images done, the total and the images per second.
    public var progress: (_ done: Int, _ total: Int, _ imagesPerSecond: Double) -> Void = { _, _, _ in }

    /// What a finished pack did.
    public struct Summary: Sendable {
        /// Images written.
        public let images: Int
        /// Images that were resized and re-encoded.
        public let resized: Int
        /// Files skipped because they did not decode, with the reason for each.
        public let skipped: [(path: String, reason: String)]
        /// Bytes of encoded images written.
        public let bytes: Int
        /// Wall time.
        public let seconds: Double
    }

    public init(folder: ImageFolder, output: String) {
        self.folder = folder
        self.output = output
    }

    /// One file's outcome: the bytes to store and their image size, plus its pixel statistics, or why it failed.
    private struct Packed {
        var bytes: [UInt8] = [], width = 0, height = 0, resized = false, grey = false
        var sums = [Double](repeating: 0, count: 3), squares = [Double](repeating: 0, count: 3), pixels = 0
        var failure: String?
    }

    /// Packs every file, in the folder's order; throws on the first file that does not decode unless
    /// `skipUndecodable`.
    public func pack() throws(DataError) -> Summary {
        if let resizeShorter, resizeShorter < 1 {
            throw .invalidArgument(name: "--resize-shorter", value: "\(resizeShorter)", expected: "at least 1")
        }
        guard (1...100).contains(quality) else {
            throw .invalidArgument(name: "--quality", value: "\(quality)", expected: "1...100")
        }
        let start = ContinuousClock.now
        let writer = try EncodedImageWriter(output: output)
        let files = folder.files
        var labels: [Int32] = [], skipped: [(path: String, reason: String)] = []
        var sums = [Double](repeating: 0, count: 3), squares = [Double](repeating: 0, count: 3), pixels = 0
        var resized = 0, bytes = 0, lastReport = ContinuousClock.now, allGrey = true
        // Blocks bound the memory in flight; each is decoded in parallel, then written in order.
        let blockSize = 64 * max(1, workers)
        var first = 0
        while first < files.count {
            let block = Array(files[first..<min(first + blockSize, files.count)])
            let results = process(block)
            for (file, result) in zip(block, results) {
                if let failure = result.failure {
                    guard skipUndecodable else {
                        throw .io(file: file.path, reason: "cannot be decoded: \(failure) (--skip-bad skips such files)")
                    }
                    skipped.append((file.path, failure))
                    continue
                }
                try writer.append(result.bytes, width: result.width, height: result.height)
                labels.append(Int32(file.label))
                for c in 0..<3 {
                    sums[c] += result.sums[c]
                    squares[c] += result.squares[c]
                }
                pixels += result.pixels
                allGrey = allGrey && result.grey
                resized += result.resized ? 1 : 0
                bytes += result.bytes.count
            }
            first += block.count
            if ContinuousClock.now - lastReport >= .seconds(2) || first == files.count {
                lastReport = .now
                progress(first, files.count, Double(first) / ((ContinuousClock.now - start) / .seconds(1)))
            }
        }
        guard !labels.isEmpty else { throw .io(file: folder.root, reason: "no image could be decoded") }
        let mean = (0..<(allGrey ? 1 : 3)).map { sums[$0] / Double(pixels) }
        let std = mean.indices.map { (max(0, squares[$0] / Double(pixels) - mean[$0] * mean[$0])).squareRoot() }
        guard std.allSatisfy({ $0 > 0 }) else {
            throw .io(file: folder.root, reason: "every image has the same colour in some channel (std 0)")
        }
        var source = "ImageFolder \(folder.root): \(labels.count) images of \(folder.classNames.count) classes"
        if let resizeShorter { source += ", shorter sides above \(resizeShorter) resized to it (JPEG quality \(quality))" }
        try writer.finish(labels: labels, classNames: folder.classNames, mean: mean, std: std, source: source)
        return Summary(images: labels.count, resized: resized, skipped: skipped, bytes: bytes,
                       seconds: (ContinuousClock.now - start) / .seconds(1))
    }

    /// Reads and decodes `block` on `workers` threads, each with its own codec.
    private func process(_ block: [(path: String, label: Int)]) -> [Packed] {
        // Each thread writes its own elements only.
        nonisolated(unsafe) let results = UnsafeMutableBufferPointer<Packed>.allocate(capacity: block.count)
        results.initialize(repeating: Packed())
        defer { results.deallocate() }
        let threads = max(1, min(workers, block.count))
        let paths = block.map(\.path), resizeShorter = resizeShorter, quality = quality
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            let codec = ImageCodec()
            for index in stride(from: thread, to: paths.count, by: threads) {
                results[index] = Self.pack(paths[index], codec: codec, resizeShorter: resizeShorter, quality: quality)
            }
        }
        return Array(results)
    }

    private static func pack(_ path: String, codec: ImageCodec, resizeShorter: Int?, quality: Int) -> Packed {
        guard let data = FileManager.default.contents(atPath: path) else {
            var packed = Packed()
            packed.failure = "cannot be read"
            return packed
        }
        let bytes = [UInt8](data)
        return bytes.withUnsafeBytes { raw in
            do {
                return try pack(raw, codec: codec, resizeShorter: resizeShorter, quality: quality)
            } catch {
                var packed = Packed()
                packed.failure = "\(error)"
                return packed
            }
        }
    }

    private static func pack(_ raw: UnsafeRawBufferPointer, codec: ImageCodec, resizeShorter: Int?,
                             quality: Int) throws(ImageCodec.Failure) -> Packed {
        var packed = Packed()
        let (width, height) = try codec.size(of: raw)
        if let resizeShorter, min(width, height) > resizeShorter {
            // The target size comes from the file's size, not from the DCT-scaled decode's.
            let target = CropBox.resizedShorterSide(width: width, height: height, to: resizeShorter)
            let decoded = try codec.decode(raw, minimumShorterSide: resizeShorter)
            let image = ImageResampler.resize(decoded, width: target.width, height: target.height)
            packed.bytes = try codec.encodeJPEG(image, quality: quality)
            (packed.width, packed.height, packed.resized) = (image.width, image.height, true)
            accumulate(image, into: &packed)
        } else {
            packed.bytes = Array(raw)
            (packed.width, packed.height) = (width, height)
            accumulate(try codec.decode(raw, minimumShorterSide: min(64, min(width, height))), into: &packed)
        }
        return packed
    }

    private static func accumulate(_ image: RGBImage, into packed: inout Packed) {
        var sums = [UInt64](repeating: 0, count: 3), squares = [UInt64](repeating: 0, count: 3), grey = true
        image.pixels.withUnsafeBufferPointer { pixels in
            for i in stride(from: 0, to: pixels.count, by: 3) {
                grey = grey && pixels[i] == pixels[i + 1] && pixels[i] == pixels[i + 2]
                for c in 0..<3 {
                    let value = UInt64(pixels[i + c])
                    sums[c] += value
                    squares[c] += value * value
                }
            }
        }
        for c in 0..<3 {
            packed.sums[c] = Double(sums[c]) / 255
            packed.squares[c] = Double(squares[c]) / (255 * 255)
        }
        packed.pixels = image.width * image.height
        packed.grey = grey
    }
}
