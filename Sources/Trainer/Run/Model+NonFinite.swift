import Engine
import NN

extension Model {
    /// The first parameter segment whose values in `buffer` (parameters or gradients) are not finite.
    func firstNonFinite(_ buffer: UnsafePointer<Float>) -> ParameterSegment? {
        parameterSegments.first { !Reduction.allFinite(buffer + $0.offset, count: $0.count) }
    }
}
