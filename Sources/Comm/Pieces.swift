/// The consecutive ranges, each at most `limit` elements long, that cover `0..<count`.
///
/// MPI counts are 32-bit ints, so a buffer of more than `Int32.max` elements travels in several calls.
package struct Pieces: Sequence, Sendable {
    /// The number of elements to cover.
    package let count: Int
    /// The most elements one piece may hold.
    package let limit: Int

    /// Covers `0..<count` with pieces of at most `limit` elements.
    package init(count: Int, limit: Int) {
        precondition(count >= 0 && limit > 0, "Pieces needs count >= 0 and limit > 0, got \(count) and \(limit)")
        self.count = count
        self.limit = limit
    }

    /// Walks the pieces from the first element to the last.
    package func makeIterator() -> AnyIterator<Range<Int>> {
        var start = 0
        return AnyIterator {
            guard start < count else { return nil }
            let end = start + Swift.min(limit, count - start)
            defer { start = end }
            return start..<end
        }
    }
}
