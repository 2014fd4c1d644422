import Foundation

extension VanishingExperiment {
    /// `run(progress:)` with the jobs dealt over `communicator`'s ranks: job i (in ``jobs`` order) is
    /// trained by rank i mod N, each in one process exactly as a serial run trains it (so every
    /// summary equals the serial one but for its wall time); the summaries are gathered on rank 0,
    /// which writes summary.json, results.md and report.html. Returns the outcome on rank 0, nil on
    /// the others. Every rank writes its own jobs' run directories under ``Options/output``: across
    /// machines that directory must be shared for rank 0's report to find them all.
    public func run(over communicator: any Communicator, progress: (String) -> Void = { _ in }) throws -> Outcome? {
        if communicator.size == 1 { return try run(progress: progress) }
        let rank = communicator.rank, ranks = communicator.size
        let prepared = try prepare(progress: rank == 0 ? progress : { _ in })
        var mine: [IndexedSummary] = []
        for (index, job) in jobs.enumerated() where index % ranks == rank {
            mine.append(IndexedSummary(index: index, summary: try run(job, in: prepared) { progress("rank \(rank): \($0)") }))
        }
        // The summaries travel as JSON bytes, one Float per byte (exact for 0…255), through the
        // communicator's gather.
        let bytes = try JSONEncoder().encode(mine)
        let block = bytes.map { Float($0) }
        let counts = try communicator.allgather(UInt64(block.count)).map { Int($0) }
        let gathered = try block.withUnsafeBufferPointer { try communicator.gather($0, counts: counts, root: 0) }
        guard rank == 0, let gathered else { return nil }
        var runs = [RunSummary?](repeating: nil, count: jobs.count)
        var offset = 0
        for count in counts {
            let data = Data(gathered[offset..<(offset + count)].map { UInt8($0) })
            for item in try JSONDecoder().decode([IndexedSummary].self, from: data) { runs[item.index] = item.summary }
            offset += count
        }
        guard runs.allSatisfy({ $0 != nil }) else {
            throw CommunicatorError.invalidArgument("the ranks returned \(runs.compactMap { $0 }.count) of \(jobs.count) experiment jobs")
        }
        return try finish(runs.compactMap { $0 }, prepared: prepared)
    }

    /// A job's summary with its place in ``jobs``.
    struct IndexedSummary: Codable {
        var index: Int
        var summary: RunSummary
    }
}
