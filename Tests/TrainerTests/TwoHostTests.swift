import Foundation
import MPITestSupport
import Testing
import Trainer

/// Two hosts for real: `launch/two-hosts.sh` builds two network namespaces joined by a shaped veth pair and runs
/// `mpirun --hostfile` across them over Open MPI's TCP transport. Training there ends with the parameters of the
/// same 2-rank run on one host (shared memory): with two ranks every element is one sum of two addends whatever
/// the transport, so they agree bitwise.
///
/// A machine that does not permit network namespaces makes this a known issue with a line saying so, never a
/// silent skip.
@Suite(.serialized) struct TwoHostTests {
    /// The script, in the package that holds the build directory the test binary runs in.
    private func script() throws -> String {
        var folder = URL(fileURLWithPath: try MPIRun.product(named: "dtrain")).deletingLastPathComponent()
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent("launch/two-hosts.sh").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            folder.deleteLastPathComponent()
        }
        throw MPIRun.Failure.productMissing(path: "launch/two-hosts.sh above the build directory")
    }

    private func twoHosts(_ arguments: [String]) throws -> MPIRun.Result? {
        let result = try ChildProcess(executable: try script(), arguments: arguments).wait(timeout: .seconds(180))
        guard result.status != 3 else {
            print("TwoHostTests: NOT RUN: \(result.stderr)")
            withKnownIssue("this machine does not permit network namespaces; the two-host run did not happen") {
                Issue.record(Comment(rawValue: result.stderr))
            }
            return nil
        }
        return result
    }

    @Test func ranksOnTwoHostsAreOnDifferentNodes() throws {
        guard let result = try twoHosts([try MPIRun.product(named: "dtrain-comm-check"), "info"]) else { return }
        #expect(result.status == 0, "\(result.stderr)")
        for rank in 0..<2 {
            #expect(result.stdout.contains("info rank \(rank) of 2: local 0 of 1, named"), "\(result.stdout)")
        }
        print(result.stderr.split(separator: "\n").first { $0.hasPrefix("two-hosts:") } ?? "")
    }

    @Test func trainingOnTwoHostsMatchesOneHost() throws {
        let scratch = try TrainerRunSupport("two-hosts")
        defer { scratch.remove() }
        let train = try scratch.synthetic("train.h5", count: 512, seed: 1)
        let validation = try scratch.synthetic("val.h5", count: 64, seed: 2)
        var parameters: [String: [String: [Float]]] = [:]
        for place in ["one-host", "two-hosts"] {
            let out = scratch.path(place)
            let config = try scratch.config("\(place).toml", scratch.lenetConfig(train: train, validation: validation,
                                                                                  steps: 20, out: out))
            // Small buckets: several allreduces per step cross the link while backward runs.
            let arguments = [config, "--set", "comm.bucket_mb=0.01"]
            let result: MPIRun.Result
            if place == "one-host" {
                result = try scratch.dtrain(arguments, ranks: 2)
            } else {
                guard let twoHost = try twoHosts([try MPIRun.product(named: "dtrain")] + arguments) else { return }
                result = twoHost
            }
            #expect(result.status == 0, "\(place) failed:\n\(result.stderr)")
            parameters[place] = try ModelFile.readParameters(from: out + "/model.h5")
        }
        let oneHost = try #require(parameters["one-host"]), twoHosts = try #require(parameters["two-hosts"])
        #expect(oneHost.count == 10)
        for (name, values) in oneHost {
            #expect(twoHosts[name] == values, "\(name) differs between one host and two hosts")
        }
    }
}
