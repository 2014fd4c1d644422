import Foundation

/// Accumulates long-range scores: for each target, the probabilities a model gives to every
/// candidate unit (the closers, or the recall keys) at the target position.
///
/// - `type_accuracy`: share of targets where the expected candidate's probability is strictly
///   greater than every other candidate's (ties count as wrong, so a uniform guess scores 0).
/// - `mean_probability`: mean probability of the expected unit. Feed probabilities from the
///   model's full softmax (not renormalized over the candidates) to read it as "probability the
///   model would emit the right closer".
/// Both are reported per ``DistanceBucket`` and overall, with counts.
public struct LongRangeScorer: Sendable {
    /// Candidate units, in the order probability vectors are given.
    public let candidates: [String]
    public let buckets: [DistanceBucket]
    private var counts: [Int]
    private var correct: [Int]
    private var probabilitySums: [Double]

    public init(candidates: [String], buckets: [DistanceBucket] = DistanceBucket.standard) {
        self.candidates = candidates
        self.buckets = buckets
        counts = [Int](repeating: 0, count: buckets.count)
        correct = counts
        probabilitySums = [Double](repeating: 0, count: buckets.count)
    }

    /// A scorer over the closers of `delimiters`.
    public init(delimiters: DelimiterSet = .standard, buckets: [DistanceBucket] = DistanceBucket.standard) {
        self.init(candidates: delimiters.closers, buckets: buckets)
    }

    /// Adds one target. `probabilities[j]` is the probability of `candidates[j]` as unit
    /// `target.position` (count must equal `candidates.count`).
    public mutating func add(_ target: LongRangeTarget, probabilities: some RandomAccessCollection<Double>) {
        precondition(probabilities.count == candidates.count, "one probability per candidate")
        guard let bucket = DistanceBucket.index(of: target.distance, in: buckets) else { return }
        let values = Array(probabilities)
        let expected = values[target.expectedIndex]
        var isBest = true
        for (j, p) in values.enumerated() where j != target.expectedIndex && !(expected > p) { isBest = false }
        counts[bucket] += 1
        if isBest { correct[bucket] += 1 }
        probabilitySums[bucket] += expected
    }

    /// The candidates' probabilities gathered from a full distribution over the vocabulary;
    /// `ids[j]` is the vocabulary id of `candidates[j]` (nil → probability 0).
    public static func gather<C: RandomAccessCollection>(_ distribution: C, ids: [Int?]) -> [Double]
    where C.Element: BinaryFloatingPoint, C.Index == Int {
        ids.map { id in
            guard let id, id >= 0, id < distribution.count else { return 0 }
            return Double(distribution[distribution.startIndex + id])
        }
    }

    /// Number of targets added.
    public var count: Int { counts.reduce(0, +) }

    /// The scores so far. `skipped` carries the counts of what could not be scored.
    public func result(label: String, task: LongRangeResult.Task,
                       skipped: LongRangeResult.Skipped = .init()) -> LongRangeResult {
        func score(_ label: String, _ lower: Int, _ upper: Int?, _ n: Int, _ c: Int, _ sum: Double) -> LongRangeBucketScore {
            LongRangeBucketScore(label: label, lower: lower, upper: upper, count: n, correct: c,
                                 typeAccuracy: n > 0 ? Double(c) / Double(n) : nil,
                                 meanProbability: n > 0 ? sum / Double(n) : nil)
        }
        let perBucket = buckets.indices.map { i in
            score(buckets[i].label, buckets[i].lower, buckets[i].upper, counts[i], correct[i], probabilitySums[i])
        }
        let overall = score("all", buckets.first?.lower ?? 1, buckets.last?.upper, counts.reduce(0, +),
                            correct.reduce(0, +), probabilitySums.reduce(0, +))
        return LongRangeResult(label: label, task: task, candidates: candidates, buckets: perBucket,
                               overall: overall, skipped: skipped)
    }
}

/// One distance bucket's scores.
public struct LongRangeBucketScore: Codable, Sendable, Equatable {
    public var label: String
    public var lower: Int
    public var upper: Int?
    /// Targets scored.
    public var count: Int
    /// Targets where the expected candidate had the strictly highest probability.
    public var correct: Int
    /// `correct / count`; nil when `count` is 0.
    public var typeAccuracy: Double?
    /// Mean probability of the expected unit; nil when `count` is 0.
    public var meanProbability: Double?

    enum CodingKeys: String, CodingKey {
        case label, lower, upper, count, correct
        case typeAccuracy = "type_accuracy"
        case meanProbability = "mean_probability"
    }
}

/// Long-range scores of one model (or baseline) on one text: the contents of `long-range.json`
/// entries (see ``LongRangeReport``).
public struct LongRangeResult: Codable, Sendable, Equatable {
    /// What was scored.
    public enum Task: String, Codable, Sendable {
        /// Closing delimiters matched by the delimiter stack.
        case delimiters
        /// Keys reproduced after a cue (synthetic `recall` task).
        case recall
    }

    /// Units that could not be scored.
    public struct Skipped: Codable, Sendable, Equatable {
        /// Closers with nothing open.
        public var unmatchedClosers: Int
        /// Closers not matching the innermost open delimiter.
        public var mismatchedClosers: Int
        /// Openers never closed.
        public var unclosedOpeners: Int
        /// Recall cues with no key before them.
        public var cuesWithoutKey: Int

        public init(unmatchedClosers: Int = 0, mismatchedClosers: Int = 0, unclosedOpeners: Int = 0,
                    cuesWithoutKey: Int = 0) {
            self.unmatchedClosers = unmatchedClosers; self.mismatchedClosers = mismatchedClosers
            self.unclosedOpeners = unclosedOpeners; self.cuesWithoutKey = cuesWithoutKey
        }

        public init(_ scan: DelimiterScan) {
            self.init(unmatchedClosers: scan.unmatchedClosers, mismatchedClosers: scan.mismatchedClosers,
                      unclosedOpeners: scan.unclosedOpeners)
        }

        enum CodingKeys: String, CodingKey {
            case unmatchedClosers = "unmatched_closers"
            case mismatchedClosers = "mismatched_closers"
            case unclosedOpeners = "unclosed_openers"
            case cuesWithoutKey = "cues_without_key"
        }
    }

    /// Name shown in reports, e.g. `model` or `5-gram`.
    public var label: String
    public var task: Task
    /// Candidate units (closers or keys).
    public var candidates: [String]
    public var buckets: [LongRangeBucketScore]
    public var overall: LongRangeBucketScore
    public var skipped: Skipped

    public init(label: String, task: Task, candidates: [String], buckets: [LongRangeBucketScore],
                overall: LongRangeBucketScore, skipped: Skipped) {
        self.label = label; self.task = task; self.candidates = candidates; self.buckets = buckets
        self.overall = overall; self.skipped = skipped
    }

    /// True when nothing was scored (e.g. a text without delimiters).
    public var isEmpty: Bool { overall.count == 0 }

    /// A plain-text table, one line per bucket plus overall and the skipped counts; says so when
    /// there was nothing to score.
    public func table() -> String {
        var lines = ["\(label) — long-range \(task.rawValue) accuracy"]
        if isEmpty {
            lines.append(task == .delimiters
                ? "no matched delimiter pairs in the text: nothing to score"
                : "no recall cues in the text: nothing to score")
        } else {
            lines.append(pad("distance", 10) + pad("count", 9) + pad("type_acc", 10) + pad("mean_p", 9))
            for row in buckets + [overall] {
                lines.append(pad(row.label, 10) + pad("\(row.count)", 9)
                             + pad(row.typeAccuracy.map { format($0) } ?? "-", 10)
                             + pad(row.meanProbability.map { format($0) } ?? "-", 9))
            }
        }
        switch task {
        case .delimiters:
            lines.append("skipped: \(skipped.unmatchedClosers) unmatched closers, "
                         + "\(skipped.mismatchedClosers) mismatched closers, \(skipped.unclosedOpeners) unclosed openers")
        case .recall:
            lines.append("skipped: \(skipped.cuesWithoutKey) cues without a key")
        }
        return lines.joined(separator: "\n")
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    private func format(_ value: Double) -> String { String(format: "%.4f", value) }
}

/// The contents of a run directory's `long-range.json`: one or more results (e.g. the model and an
/// n-gram baseline) on the same text.
public struct LongRangeReport: Codable, Sendable, Equatable {
    /// What the results were computed on (file name or description).
    public var source: String?
    public var results: [LongRangeResult]

    public init(source: String? = nil, results: [LongRangeResult]) {
        self.source = source; self.results = results
    }

    /// Decodes `{"results": [...]}` or a single bare ``LongRangeResult``.
    public static func decode(_ data: Data) throws -> LongRangeReport {
        let decoder = JSONDecoder()
        if let report = try? decoder.decode(LongRangeReport.self, from: data) { return report }
        return LongRangeReport(results: [try decoder.decode(LongRangeResult.self, from: data)])
    }

    /// Pretty, key-sorted JSON.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return try encoder.encode(self)
    }
}

/// Long-range evaluation end to end: find the targets in a unit sequence, ask a probability source
/// for each, score.
public enum LongRangeEvaluation {
    /// Delimiter accuracy of a model on `units`. `probabilities(target)` returns the probabilities of
    /// `delimiters.closers` (in order) for unit `target.position` given units `0..<target.position`.
    public static func delimiters(units: [String], delimiters: DelimiterSet = .standard, label: String,
                                  buckets: [DistanceBucket] = DistanceBucket.standard,
                                  probabilities: (LongRangeTarget) throws -> [Double]) rethrows -> LongRangeResult {
        let scan = DelimiterScan(units: units, delimiters: delimiters)
        var scorer = LongRangeScorer(delimiters: delimiters, buckets: buckets)
        for target in scan.targets { scorer.add(target, probabilities: try probabilities(target)) }
        return scorer.result(label: label, task: .delimiters, skipped: .init(scan))
    }

    /// Recall accuracy on `units` (synthetic `recall` task): `probabilities(target)` returns the
    /// probabilities of `keys` (in order) for unit `target.position`.
    public static func recall(units: [String], keys: [String] = RecallScan.keys, label: String,
                              buckets: [DistanceBucket] = DistanceBucket.standard,
                              probabilities: (LongRangeTarget) throws -> [Double]) rethrows -> LongRangeResult {
        let scan = RecallScan(units: units, keys: keys)
        var scorer = LongRangeScorer(candidates: keys, buckets: buckets)
        for target in scan.targets { scorer.add(target, probabilities: try probabilities(target)) }
        return scorer.result(label: label, task: .recall, skipped: .init(cuesWithoutKey: scan.cuesWithoutKey))
    }
}
