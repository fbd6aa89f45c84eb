// Run as `mpirun -n N dtrain-comm-check SCENARIO`: exercises the communicator and prints one line per rank,
// "<scenario> rank <r> of <n>: <result>", which the multi-rank tests in CommTests compare with what they expect.
import Comm
import Foundation

guard CommandLine.arguments.count == 2, let scenario = Scenario(rawValue: CommandLine.arguments[1]) else {
    let names = Scenario.allCases.map(\.rawValue).joined(separator: " | ")
    FileHandle.standardError.write(Data("usage: dtrain-comm-check \(names)\n".utf8))
    exit(2)
}
let communicator = MPICommunicator.start()
scenario.run(on: communicator)
