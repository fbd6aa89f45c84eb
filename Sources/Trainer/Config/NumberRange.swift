/// The values a floating-point setting accepts, with the phrase an error message uses for it.
enum NumberRange: Sendable {
    case positive, nonNegative, fraction, closedFraction

    /// Whether `value` is allowed.
    func contains(_ value: Double) -> Bool {
        switch self {
        case .positive: return value > 0
        case .nonNegative: return value >= 0
        case .fraction: return value >= 0 && value < 1
        case .closedFraction: return value >= 0 && value <= 1
        }
    }

    /// The requirement as an error message states it.
    var requirement: String {
        switch self {
        case .positive: return "must be > 0"
        case .nonNegative: return "must be ≥ 0"
        case .fraction: return "must be in [0, 1)"
        case .closedFraction: return "must be in [0, 1]"
        }
    }
}
