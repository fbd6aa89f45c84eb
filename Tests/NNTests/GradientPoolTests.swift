import Engine
import NN
import Testing

@Suite struct GradientPoolTests {
    @Test func storageIsReusedOnlyOnceReleased() {
        let pool = GradientPool()
        var held: Tensor? = pool.tensor(shape: [4, 8])
        let first = held!.pointer
        let second = pool.tensor(shape: [4, 8])
        #expect(second.pointer != first, "a tensor still held is handed out again")
        held = nil
        let third = pool.tensor(shape: [2, 16])
        #expect(third.pointer == first, "released storage of the same size is not reused")
        #expect(held == nil && second.count == 32)
    }

    @Test func smallRequestsDoNotTakeLargeBuffers() {
        let pool = GradientPool()
        var large: Tensor? = pool.tensor(shape: [1000])
        let largePointer = large!.pointer
        large = nil
        let small = pool.tensor(shape: [10])
        #expect(small.pointer != largePointer && large == nil)
    }
}
