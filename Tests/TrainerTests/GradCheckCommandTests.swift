import Foundation
import MPITestSupport
import Testing

/// `dtrain gradcheck`: one line per parameter tensor, and an exit status that says whether all passed.
@Suite struct GradCheckCommandTests {
    @Test func lenet5PassesAndAnImpossibleToleranceFails() throws {
        let scratch = try TrainerRunSupport("gradcheck")
        defer { scratch.remove() }
        let train = try scratch.synthetic("train.h5", count: 64, seed: 1)
        let config = try scratch.config("lenet.toml", scratch.lenetConfig(train: train, validation: train, out: scratch.path("run")))
        let passing = try scratch.dtrain(["gradcheck", config], ranks: 1)
        print(passing.stdout)
        #expect(passing.status == 0, "gradcheck failed:\n\(passing.stdout)\(passing.stderr)")
        let lines = passing.stdout.split(separator: "\n").filter { $0.contains("worst relative error") }
        // LeNet-5: conv1, conv2, conv3, fc1, fc2, each a weight and a bias.
        #expect(lines.count == 10 && lines.allSatisfy { $0.contains("  ok  (element ") }, "\(passing.stdout)")
        #expect(lines.first?.hasPrefix("conv1.weight") == true)

        let failing = try scratch.dtrain(["gradcheck", config, "--tolerance", "1e-12"], ranks: 1)
        #expect(failing.status == 1, "status \(failing.status):\n\(failing.stdout)\(failing.stderr)")
        #expect(failing.stdout.contains("FAIL"))
    }
}
