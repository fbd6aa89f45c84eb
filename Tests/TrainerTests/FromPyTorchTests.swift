import Engine
import Foundation
import HDF5
import MPITestSupport
import Testing
import Trainer

/// A torchvision ResNet-18 or AlexNet state_dict, converted by launch/from_pytorch.py, gives PyTorch's logits in dtrain
/// (torch and torchvision from python3, or from PyPI into a virtual environment of the build directory).
@Suite struct FromPyTorchTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test(arguments: ["resnet18", "alexnet"])
    func convertedModelGivesPyTorchsLogits(_ model: String) throws {
        let scratch = try TrainerRunSupport("from-pytorch")
        defer { scratch.remove() }
        // torchvision is not among the checked imports: it imports only with the scripts' register_fake stub, so a
        // plain `import torchvision` fails, and a failing check makes the environment again, under a running case.
        let python = try PythonEnvironment.python(
            named: "torch", importing: ["torch", "h5py", "numpy"],
            packages: ["torch==2.13.0+cpu", "torchvision==0.28.0", "h5py", "numpy"])
        let reference = try ChildProcess(executable: python, arguments: [
            Self.packageRoot + "/Tests/References/torchvision_state_dict.py", scratch.directory, model,
        ]).wait(timeout: .seconds(300))
        try #require(reference.status == 0, "the PyTorch reference failed: \(reference.stderr)")
        let converted = scratch.path("\(model).h5")
        let conversion = try ChildProcess(executable: python, arguments: [
            Self.packageRoot + "/launch/from_pytorch.py", scratch.path("\(model).pth"), "--output", converted,
        ]).wait(timeout: .seconds(300))
        try #require(conversion.status == 0, "from_pytorch.py failed: \(conversion.stderr)")
        print(conversion.stdout.trimmingCharacters(in: .whitespacesAndNewlines))

        let file = try HDF5File.open(scratch.path("logits.h5"))
        let inputs = try file.openDataset("inputs"), expected = try file.openDataset("logits").readAll(as: Float.self)
        let images = Tensor(zeros: inputs.shape)
        try inputs.readAll(as: Float.self).withUnsafeBufferPointer { images.pointer.update(from: $0.baseAddress!, count: $0.count) }

        let predictor = try Predictor(modelFile: converted)
        #expect(predictor.description.model == model && predictor.description.classNames.count == 10)
        let logits = predictor.logits(images)
        try #require(logits.count == expected.count, "dtrain gives \(logits.shape), PyTorch \(expected.count) logits")
        let scale = Double(expected.map(abs).max() ?? 1)
        var worst = (difference: 0.0, index: 0)
        for index in 0..<expected.count {
            let difference = Double(abs(logits.pointer[index] - expected[index]))
            if difference > worst.difference { worst = (difference, index) }
        }
        print("\(model) from PyTorch: \(expected.count) logits, largest |logit| \(scale), worst |dtrain - PyTorch| "
              + "\(worst.difference) at \(worst.index) (dtrain \(logits.pointer[worst.index]), PyTorch \(expected[worst.index]))")
        #expect(worst.difference <= 1e-4 * scale, "logit \(worst.index): dtrain \(logits.pointer[worst.index]), PyTorch \(expected[worst.index])")
    }
}
