import Dispatch

/// Runs elementwise work (row- or column-independent) in a fixed number of chunks, concurrently
/// on up to `threads` threads.
///
/// The chunk boundaries depend only on the extent and the chunk count, never on the thread count,
/// so a reduction that combines per-chunk partial results in chunk order gives the same bits with
/// 1 or 2 threads.
public enum ParallelChunks {
    /// The chunk count for `extent` items of `itemCost` elements each: 2 when there are at least
    /// `minimumElements` elements in all (enough to repay a thread wake-up of a few µs), else 1.
    public static func count(extent: Int, itemCost: Int, minimumElements: Int = 1 << 16) -> Int {
        extent >= 2 && extent * itemCost >= minimumElements ? 2 : 1
    }

    /// Calls `body(chunk, range)` for `chunks` nearly equal ranges covering 0..<extent; the calls
    /// run concurrently when `threads` > 1. `body` must only touch data of its own range.
    public static func run(extent: Int, chunks: Int, threads: Int, _ body: (Int, Range<Int>) -> Void) {
        if chunks < 2 || threads < 2 {
            for i in 0..<max(chunks, 1) { body(i, chunks < 2 ? 0..<extent : range(i, of: chunks, extent)) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let boxed = SendableClosure(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { i in boxed.body(i, range(i, of: chunks, extent)) }
        }
    }

    /// `run` with the chunk count `count(extent:itemCost:)` picks.
    public static func run(extent: Int, itemCost: Int, threads: Int, _ body: (Int, Range<Int>) -> Void) {
        run(extent: extent, chunks: count(extent: extent, itemCost: itemCost), threads: threads, body)
    }

    /// Σ `part(range)` over the chunks `count(extent:itemCost:)` picks, added in chunk order, so the
    /// result does not depend on `threads`.
    public static func sum(extent: Int, itemCost: Int, threads: Int, _ part: (Range<Int>) -> Double) -> Double {
        let chunks = count(extent: extent, itemCost: itemCost)
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: chunks) { sums in
            run(extent: extent, chunks: chunks, threads: threads) { i, r in sums[i] = part(r) }
            return sums.reduce(0, +)
        }
    }

    /// Chunk `i` of `chunks` over 0..<extent.
    @inline(__always)
    static func range(_ i: Int, of chunks: Int, _ extent: Int) -> Range<Int> {
        (i * extent / chunks)..<((i + 1) * extent / chunks)
    }
}

/// Carries a closure whose captured state the caller has partitioned between workers.
private struct SendableClosure: @unchecked Sendable {
    let body: (Int, Range<Int>) -> Void
    init(_ body: @escaping (Int, Range<Int>) -> Void) { self.body = body }
}
