import ArgumentParser
import Foundation
import Trainer

/// `dtrain plot RUN_DIR... --output FILE.svg|FILE.png`: the learning curves of runs, side by side.
struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Plot training loss, accuracy, learning rate and validation top-1 of one or more runs.",
        discussion: """
            Reads each run directory's metrics.jsonl; each run is one colour, named by its directory. A .png output
            is the SVG rendered by rsvg-convert (Debian: librsvg2-bin).
            Exit status: 0 done, 2 a run directory or the output could not be used (one line says which).
            """)

    @Argument(help: "Run directories (run.out_dir of each run).")
    var runs: [String]

    @Option(help: "The picture to write: FILE.svg or FILE.png.")
    var output: String

    func run() throws {
        do {
            let svg = LearningCurvePlot(runs: try runs.map { try RunMetrics(directory: $0) }).svg()
            if output.hasSuffix(".svg") {
                try write(svg, to: output)
            } else if output.hasSuffix(".png") {
                try writePNG(svg)
            } else {
                throw TrainerError.invalid("--output \(output): expected a file name ending in .svg or .png")
            }
            print("plot: \(runs.count) run\(runs.count == 1 ? "" : "s") in \(output)")
        } catch {
            FileHandle.standardError.write("dtrain: \(error)\n".data(using: .utf8)!)
            throw ExitCode(2)
        }
    }

    private func write(_ text: String, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
            throw TrainerError.invalid("--output \(path): cannot write the file")
        }
    }

    private func writePNG(_ svg: String) throws {
        let source = output + ".svg.tmp"
        try write(svg, to: source)
        defer { try? FileManager.default.removeItem(atPath: source) }
        let converter = Process()
        converter.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        converter.arguments = ["rsvg-convert", "--format", "png", "--output", output, source]
        converter.standardError = FileHandle.nullDevice
        do { try converter.run() } catch {
            throw TrainerError.invalid("--output \(output): cannot start rsvg-convert (\(error))")
        }
        converter.waitUntilExit()
        guard converter.terminationStatus == 0 else {
            throw TrainerError.invalid("--output \(output): a PNG needs rsvg-convert (Debian: apt-get install librsvg2-bin), which failed or is missing; or write an .svg")
        }
    }
}
