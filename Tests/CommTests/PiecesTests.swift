import Comm
import Testing

/// Splitting a count into pieces of at most a limit, as MPI's 32-bit counts require for long buffers.
@Suite struct PiecesTests {
    @Test func coversTheCountInOrderWithAShortLastPiece() {
        #expect(Array(Pieces(count: 10, limit: 3)) == [0..<3, 3..<6, 6..<9, 9..<10])
    }

    @Test func exactMultipleHasNoEmptyPiece() {
        #expect(Array(Pieces(count: 9, limit: 3)) == [0..<3, 3..<6, 6..<9])
    }

    @Test func countWithinTheLimitIsOnePiece() {
        #expect(Array(Pieces(count: 5, limit: Int(Int32.max))) == [0..<5])
    }

    @Test func emptyCountHasNoPieces() {
        #expect(Array(Pieces(count: 0, limit: 3)).isEmpty)
    }

    @Test func countsBeyondInt32AreSplitIntoInt32SizedPieces() {
        let count = 5 * Int(Int32.max) + 17
        let pieces = Array(Pieces(count: count, limit: Int(Int32.max)))
        #expect(pieces.count == 6)
        #expect(pieces.allSatisfy { $0.count <= Int(Int32.max) })
        #expect(pieces.last == 5 * Int(Int32.max)..<count)
        #expect(zip(pieces, pieces.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
    }
}
