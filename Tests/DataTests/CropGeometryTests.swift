import Data
import Testing

/// The crop boxes of the training and evaluation transforms against torchvision's (Tests/References/crops.py):
/// given the same random draws, RandomResizedCrop picks the same box, including its fallback; Resize + CenterCrop
/// give the same size and offsets.
@Suite struct CropGeometryTests {
    /// The draw formulas of crops.py: uniform values m / 2^24 (what torch's uniform_ makes of 24 random bits) and
    /// integers below a bound.
    static func uniform(_ drawSet: Int, _ k: Int) -> Float {
        Float((drawSet * 2_654_435_761 + k * 40503 + 12345) % (1 << 24)) / Float(1 << 24)
    }

    static func integer(_ drawSet: Int, _ k: Int, _ bound: Int) -> Int {
        (drawSet * 31 + k * 17 + 7) % bound
    }

    @Test(arguments: CropReferences.randomResized.indices)
    func randomResizedCropPicksTorchvisionsBox(index: Int) {
        let reference = CropReferences.randomResized[index]
        var fallbacks = 0
        for drawSet in 0..<CropReferences.drawSets {
            let box = CropBox.randomResized(width: reference.width, height: reference.height,
                                            uniform: { Self.uniform(drawSet, $0) },
                                            integer: { Self.integer(drawSet, $0, $1) })
            let expected = reference.boxes[drawSet]
            #expect([box.top, box.left, box.height, box.width] == expected,
                    "\(reference.width)x\(reference.height), draw set \(drawSet): \(box), torchvision \(expected)")
            let central = CropBox.randomResized(width: reference.width, height: reference.height,
                                                uniform: { _ in 0.9999 }, integer: { _, _ in 0 })
            if box == central { fallbacks += 1 }
        }
        // The thin images (1000x50, 50x1000) never fit a box and always fall back to the central one.
        if min(reference.width, reference.height) == 50 { #expect(fallbacks == CropReferences.drawSets) }
    }

    @Test(arguments: CropReferences.evaluation.indices)
    func evaluationCropIsTorchvisionsResizeAndCenterCrop(index: Int) {
        let reference = CropReferences.evaluation[index]
        let resized = CropBox.resizedShorterSide(width: reference.width, height: reference.height, to: 256)
        #expect(resized.width == reference.resizedWidth && resized.height == reference.resizedHeight)
        let box = CropBox.centered(width: resized.width, height: resized.height, size: 224)
        #expect(box == CropBox(top: reference.top, left: reference.left, height: 224, width: 224))
    }
}
