/// The contiguous block of a global batch's streams that one rank owns.
///
/// Rank r of N owns streams ⌊r·B/N⌋ ..< ⌊(r+1)·B/N⌋ of the B streams: blocks differ in size by at
/// most one stream (uneven splits allowed) and depend only on (B, N, r), so a checkpoint that
/// holds all B streams can be re-dealt to any number of ranks.
public struct StreamShard: Sendable, Equatable {
    /// B: streams of the global batch.
    public let globalStreams: Int
    /// This rank's streams, global indices.
    public let streams: Range<Int>

    /// Rank `rank`'s block of `globalStreams` streams split over `ranks` ranks.
    public init(globalStreams: Int, rank: Int, ranks: Int) {
        precondition(ranks >= 1 && (0..<ranks).contains(rank) && globalStreams >= 0, "shard arguments")
        self.globalStreams = globalStreams
        streams = Self.range(globalStreams, rank, ranks)
    }

    /// An explicit block `streams` of `globalStreams`.
    public init(globalStreams: Int, streams: Range<Int>) {
        precondition(streams.lowerBound >= 0 && streams.upperBound <= globalStreams, "shard block")
        self.globalStreams = globalStreams
        self.streams = streams
    }

    /// Every rank's block, in rank order.
    public static func blocks(globalStreams: Int, ranks: Int) -> [Range<Int>] {
        (0..<ranks).map { range(globalStreams, $0, ranks) }
    }

    private static func range(_ b: Int, _ r: Int, _ n: Int) -> Range<Int> { (r * b / n)..<((r + 1) * b / n) }

    /// b: streams of this block.
    public var count: Int { streams.count }
    /// True when this block is the whole batch (one rank).
    public var isWhole: Bool { streams.count == globalStreams }

    /// This block's columns of time-major ids (`ids[t·B + b]`, T·B values) as T·b values.
    public func slice(_ ids: [Int32]) -> [Int32] {
        if isWhole { return ids }
        let t = ids.count / max(globalStreams, 1)
        var out = [Int32]()
        out.reserveCapacity(t * count)
        for step in 0..<t { out.append(contentsOf: ids[(step * globalStreams + streams.lowerBound)..<(step * globalStreams + streams.upperBound)]) }
        return out
    }
}
