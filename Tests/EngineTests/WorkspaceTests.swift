import Engine
import Testing

@Suite struct WorkspaceTests {
    @Test func growsOnDemandAndIsReused() {
        let workspace = Workspace()
        let first = workspace.buffer(count: 1000)
        #expect(Int(bitPattern: first) % 64 == 0)
        first[999] = 1
        #expect(workspace.buffer(count: 10) == first)
        #expect(workspace.buffer(count: 1000) == first)
        let grown = workspace.buffer(count: 100_000)
        #expect(Int(bitPattern: grown) % 64 == 0)
        grown[99_999] = 2
        #expect(workspace.buffer(count: 5000) == grown)
    }
}
