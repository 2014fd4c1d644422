import Foundation

/// A problem fitting or querying an n-gram model.
public enum NGramError: Error, Equatable, CustomStringConvertible {
    case invalidOrder(Int)
    case invalidVocabularySize(Int)
    case idOutOfRange(index: Int, id: Int32, vocabularySize: Int)

    public var description: String {
        switch self {
        case .invalidOrder(let order): "n-gram order must be between 1 and 32 (got \(order))"
        case .invalidVocabularySize(let size): "n-gram vocabulary size must be positive (got \(size))"
        case .idOutOfRange(let index, let id, let size):
            "unit id \(id) at position \(index) is outside the vocabulary (0..<\(size))"
        }
    }
}

/// An n-gram language model over unit ids with interpolated Witten–Bell smoothing: the baseline a
/// recurrent model's long-range accuracy is compared with (an n-gram cannot see further back than
/// n − 1 units).
///
/// For a context `h` of k units (k = 0…n−1; `h′` is `h` without its oldest unit):
///
///     P(w | h) = (c(h w) + T(h) · P(w | h′)) / (c(h) + T(h))     when c(h) > 0
///     P(w | h) = P(w | h′)                                        when h was never seen
///     P(w | ·) of order −1 = 1 / V
///
/// where c(h w) counts `w` following `h` in the training ids, c(h) = Σ_w c(h w), and T(h) is the
/// number of distinct units seen after `h`. Every training position counts once at every order
/// whose context fits before it (positions near the start have shorter contexts). The model is
/// deterministic and every probability is positive; distributions sum to 1.
///
/// Storage: contexts are nodes of a trie keyed by (parent node, older unit), counts are keyed by
/// (node, next unit), each pair packed into one `UInt64`, so memory grows with the number of
/// distinct n-grams and not with Vⁿ.
public struct NGramModel: Sendable {
    /// n: the longest n-gram counted (contexts of up to n − 1 units).
    public let order: Int
    /// V: ids are in `0..<vocabularySize`.
    public let vocabularySize: Int
    /// Training units counted.
    public private(set) var trainingCount = 0

    /// (node, older unit) → node of the context extended one unit further back. Node 0 is the empty context.
    private var children: [UInt64: Int32] = [:]
    /// (node, next unit) → c(h w).
    private var counts: [UInt64: Int32] = [:]
    /// node → c(h).
    private var totals: [Int32] = [0]
    /// node → T(h).
    private var distinct: [Int32] = [0]

    /// Fits the model on `ids` (each in `0..<vocabularySize`).
    public init(order: Int = 5, vocabularySize: Int, training ids: [Int32]) throws {
        guard (1...32).contains(order) else { throw NGramError.invalidOrder(order) }
        guard vocabularySize > 0 else { throw NGramError.invalidVocabularySize(vocabularySize) }
        self.order = order
        self.vocabularySize = vocabularySize
        try add(ids)
    }

    private static func key(_ node: Int32, _ unit: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: node)) << 32 | UInt64(UInt32(bitPattern: unit))
    }

    /// Counts more training ids (as a separate sequence: no context crosses the boundary).
    public mutating func add(_ ids: [Int32]) throws {
        for (index, id) in ids.enumerated() where id < 0 || Int(id) >= vocabularySize {
            throw NGramError.idOutOfRange(index: index, id: id, vocabularySize: vocabularySize)
        }
        counts.reserveCapacity(counts.count + ids.count)
        for i in ids.indices {
            let next = ids[i]
            var node: Int32 = 0
            record(node: node, next: next)
            var k = 1
            while k < order && i - k >= 0 {
                let childKey = Self.key(node, ids[i - k])
                if let child = children[childKey] {
                    node = child
                } else {
                    node = Int32(totals.count)
                    children[childKey] = node
                    totals.append(0)
                    distinct.append(0)
                }
                record(node: node, next: next)
                k += 1
            }
        }
        trainingCount += ids.count
    }

    private mutating func record(node: Int32, next: Int32) {
        let k = Self.key(node, next)
        let old = counts[k, default: 0]
        if old == 0 { distinct[Int(node)] += 1 }
        counts[k] = old + 1
        totals[Int(node)] += 1
    }

    /// Trie nodes of the contexts of lengths 0, 1, … that were seen in training, using at most the
    /// last `order − 1` units of `context` (most recent last).
    private func nodes<C: BidirectionalCollection>(for context: C) -> [Int32] where C.Element == Int32 {
        var result: [Int32] = [0]
        var node: Int32 = 0
        var index = context.endIndex
        while result.count < order && index != context.startIndex {
            index = context.index(before: index)
            guard let child = children[Self.key(node, context[index])] else { break }
            node = child
            result.append(node)
        }
        return result
    }

    /// P(next | context), using the last `order − 1` units of `context` (most recent last).
    /// Ids outside the vocabulary in the context simply end the usable context; an out-of-range
    /// `next` has probability 0.
    public func probability<C: BidirectionalCollection>(of next: Int32, context: C) -> Double
    where C.Element == Int32 {
        guard next >= 0 && Int(next) < vocabularySize else { return 0 }
        var p = 1.0 / Double(vocabularySize)
        for node in nodes(for: context) {
            let total = Double(totals[Int(node)])
            let types = Double(distinct[Int(node)])
            guard total > 0 else { continue }
            let c = Double(counts[Self.key(node, next)] ?? 0)
            p = (c + types * p) / (total + types)
        }
        return p
    }

    /// The whole next-unit distribution (V probabilities summing to 1) after `context`.
    public func distribution<C: BidirectionalCollection>(context: C) -> [Double] where C.Element == Int32 {
        var p = [Double](repeating: 1.0 / Double(vocabularySize), count: vocabularySize)
        for node in nodes(for: context) {
            let total = Double(totals[Int(node)])
            let types = Double(distinct[Int(node)])
            guard total > 0 else { continue }
            let denominator = total + types
            for w in 0..<vocabularySize {
                let c = Double(counts[Self.key(node, Int32(w))] ?? 0)
                p[w] = (c + types * p[w]) / denominator
            }
        }
        return p
    }

    /// Mean negative log-likelihood, nats per unit, of `ids` as a held-out sequence: every unit is
    /// predicted from the (up to n − 1) units before it within `ids` (the first from the empty
    /// context). Returns nil for an empty sequence.
    public func crossEntropy(_ ids: [Int32]) -> Double? {
        guard !ids.isEmpty else { return nil }
        var sum = 0.0
        for i in ids.indices {
            let context = ids[max(0, i - order + 1)..<i]
            sum -= log(probability(of: ids[i], context: context))
        }
        return sum / Double(ids.count)
    }

    /// Long-range delimiter scores of this model on `ids`, whose units are `unitForID[id]`.
    /// Each target is predicted from the n − 1 ids before it.
    public func longRangeDelimiters(ids: [Int32], unitForID: [String], delimiters: DelimiterSet = .standard,
                                    label: String? = nil, buckets: [DistanceBucket] = DistanceBucket.standard) -> LongRangeResult {
        let units = ids.map { $0 >= 0 && Int($0) < unitForID.count ? unitForID[Int($0)] : "" }
        let closerIDs = delimiters.closerIDs { unit in unitForID.firstIndex(of: unit) }
        return LongRangeEvaluation.delimiters(units: units, delimiters: delimiters, label: label ?? "\(order)-gram",
                                              buckets: buckets) { target in
            let p = probabilities(of: closerIDs, at: target.position, in: ids)
            return p
        }
    }

    /// Recall scores of this model on `ids` (synthetic `recall` task).
    public func longRangeRecall(ids: [Int32], unitForID: [String], keys: [String] = RecallScan.keys,
                                label: String? = nil, buckets: [DistanceBucket] = DistanceBucket.standard) -> LongRangeResult {
        let units = ids.map { $0 >= 0 && Int($0) < unitForID.count ? unitForID[Int($0)] : "" }
        let keyIDs = keys.map { key in unitForID.firstIndex(of: key) }
        return LongRangeEvaluation.recall(units: units, keys: keys, label: label ?? "\(order)-gram", buckets: buckets) { target in
            probabilities(of: keyIDs, at: target.position, in: ids)
        }
    }

    /// Probabilities of the given ids (nil → 0) for unit `position` of `ids`.
    private func probabilities(of candidateIDs: [Int?], at position: Int, in ids: [Int32]) -> [Double] {
        let context = ids[max(0, position - order + 1)..<position]
        return candidateIDs.map { id in id.map { probability(of: Int32($0), context: context) } ?? 0 }
    }
}
