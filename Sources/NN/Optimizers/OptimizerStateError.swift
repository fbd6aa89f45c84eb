/// A saved optimizer state that does not fit the optimizer or model it is restored into.
public enum OptimizerStateError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The state's step count is negative.
    case negativeStep(optimizer: String, step: Int)
    /// The optimizer keeps a buffer the state lacks.
    case missingBuffer(optimizer: String, name: String)
    /// The state holds a buffer the optimizer does not keep.
    case unexpectedBuffer(optimizer: String, name: String, expected: [String])
    /// A buffer's length differs from the model's parameter count.
    case sizeMismatch(optimizer: String, name: String, expected: Int, found: Int)

    /// One line naming the optimizer, the buffer and what did not match.
    public var description: String {
        switch self {
        case .negativeStep(let optimizer, let step):
            return "\(optimizer) state: step \(step) is negative"
        case .missingBuffer(let optimizer, let name):
            return "\(optimizer) state: buffer '\(name)' is missing"
        case .unexpectedBuffer(let optimizer, let name, let expected):
            let kept = expected.isEmpty ? "none" : expected.map { "'\($0)'" }.joined(separator: ", ")
            return "\(optimizer) state: unexpected buffer '\(name)' (this optimizer keeps: \(kept))"
        case .sizeMismatch(let optimizer, let name, let expected, let found):
            return "\(optimizer) state: buffer '\(name)' has \(found) values, the model has \(expected) parameters"
        }
    }
}
