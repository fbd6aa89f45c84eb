import Comm
import NN

/// Synchronised batch norm's sums over the ranks, sent through the gradient reducer so that they take their place
/// in line behind the gradient buckets already on their way (every rank then issues its collectives in one order).
final class ReducerCrossRankSum: CrossRankSum {
    private let reducer: any GradientReducer

    init(_ reducer: any GradientReducer) {
        self.reducer = reducer
    }

    func sumOverRanks(_ values: UnsafeMutableBufferPointer<Double>) {
        reducer.sumInOrder(values)
    }
}
