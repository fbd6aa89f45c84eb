import MPITestSupport
import Testing

/// The launcher itself: where it finds mpirun and the package's executables.
@Suite struct MPIRunTests {
    @Test func missingMPIRunFailsWithInstallAdvice() {
        #expect {
            try MPIRun.locateMPIRun(searchPath: "/nonexistent:/also/nonexistent")
        } throws: { error in
            "\(error)".contains("apt-get install -y openmpi-bin")
        }
    }

    @Test func mpirunIsInstalled() throws {
        #expect(try MPIRun.locateMPIRun().hasSuffix("/mpirun"))
    }

    @Test func findsTheCheckProgramNextToTheTests() throws {
        #expect(try MPIRun.product(named: "dtrain-comm-check").hasSuffix("/dtrain-comm-check"))
        #expect(throws: MPIRun.Failure.self) { try MPIRun.product(named: "no-such-program") }
    }
}
