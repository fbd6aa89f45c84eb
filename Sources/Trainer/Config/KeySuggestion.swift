/// The known name closest to a misspelt one, by edit distance, for "did you mean" hints.
enum KeySuggestion {
    /// The candidate nearest to `name`, if it is near enough to be a plausible typo.
    ///
    /// The tolerance grows with the name's length (a third of it, at least 1) so that short names such as `lr`
    /// are not "corrected" into unrelated ones.
    static func closest(to name: String, among candidates: [String]) -> String? {
        let tolerance = max(1, name.count / 3)
        let scored = candidates.map { (candidate: $0, distance: editDistance(name.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.distance < $1.distance }), best.distance <= tolerance else { return nil }
        return best.candidate
    }

    /// The Levenshtein distance: insertions, deletions and substitutions of single characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let b = Array(b)
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
