import Foundation
import MPITestSupport
import Testing

/// `dtrain plot`: two runs' learning curves in one picture, each run a colour named in the legend.
@Suite struct PlotCommandTests {
    @Test func twoRunsSideBySide() throws {
        let scratch = try TrainerRunSupport("plot")
        defer { scratch.remove() }
        let train = try scratch.synthetic("train.h5", count: 256, seed: 1)
        let validation = try scratch.synthetic("val.h5", count: 64, seed: 2)
        var runs: [String] = []
        for (name, lr) in [("slow", "0.005"), ("fast", "0.05")] {
            let out = scratch.path(name)
            let config = try scratch.config("\(name).toml", scratch.lenetConfig(train: train, validation: validation, steps: 48, out: out))
            try #require(try scratch.dtrain([config, "--set", "optimizer.lr=\(lr)", "--set", "run.epochs=3"], ranks: 1).status == 0)
            runs.append(out)
        }
        let svgPath = scratch.path("curves.svg")
        let plotted = try scratch.dtrainAlone(["plot"] + runs + ["--output", svgPath])
        try #require(plotted.status == 0, "\(plotted.stderr)")
        let svg = try String(contentsOfFile: svgPath, encoding: .utf8)
        for text in [">slow<", ">fast<", "training loss", "training accuracy", "learning rate", "validation top-1"] {
            #expect(svg.contains(text), "the picture lacks \(text)")
        }
        // Four panels, one curve per run in each; three epochs, so three validation points per run.
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 8)
        #expect(svg.components(separatedBy: "<circle").count - 1 == 6)

        // dtrain eval appends its own record of the final model under epoch 1; the run's curves stay its own.
        let evaluated = try scratch.dtrain(["eval", scratch.path("slow.toml"), "--checkpoint", runs[0] + "/model.h5"], ranks: 1)
        try #require(evaluated.status == 0, "\(evaluated.stderr)")
        try #require(try scratch.dtrainAlone(["plot"] + runs + ["--output", svgPath]).status == 0)
        #expect(try String(contentsOfFile: svgPath, encoding: .utf8) == svg)

        if FileManager.default.isExecutableFile(atPath: "/usr/bin/rsvg-convert") {
            let pngPath = scratch.path("curves.png")
            let png = try scratch.dtrainAlone(["plot"] + runs + ["--output", pngPath])
            #expect(png.status == 0, "\(png.stderr)")
            let bytes = try Data(contentsOf: URL(fileURLWithPath: pngPath))
            #expect(bytes.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) && bytes.count > 10_000)
        }

        let missing = try scratch.dtrainAlone(["plot", scratch.path("absent"), "--output", svgPath])
        #expect(missing.status == 2)
        #expect(missing.stderr == "dtrain: \(scratch.path("absent"))/metrics.jsonl: no such file (a run directory holds the metrics.jsonl its run wrote)\n",
                "\(missing.stderr)")
    }
}
