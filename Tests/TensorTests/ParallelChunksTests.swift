import Testing
@testable import Tensor

@Suite struct ParallelChunksTests {
    /// The chunks tile 0..<extent exactly once, and their boundaries (hence any reduction combined in
    /// chunk order) do not depend on the thread count.
    @Test func chunksTileTheRangeIndependentOfThreads() {
        for extent in [1, 2, 7, 2500] {
            let chunks = ParallelChunks.count(extent: extent, itemCost: 100)
            var seen: [[Range<Int>]] = []
            for threads in [1, 2] {
                let store = UnsafeMutableBufferPointer<Range<Int>>.allocate(capacity: chunks)
                defer { store.deallocate() }
                ParallelChunks.run(extent: extent, chunks: chunks, threads: threads) { i, r in store[i] = r }
                seen.append(Array(store))
            }
            #expect(seen[0] == seen[1])
            #expect(seen[0].map(\.count).reduce(0, +) == extent)
            #expect(zip(seen[0], seen[0].dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        }
        #expect(ParallelChunks.count(extent: 2500, itemCost: 65) == 2)
        #expect(ParallelChunks.count(extent: 10, itemCost: 65) == 1)
    }
}
