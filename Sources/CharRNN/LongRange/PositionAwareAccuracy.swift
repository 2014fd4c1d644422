/// The position-aware measure of Karpathy, Johnson & Fei-Fei (2015): at the step where a closer
/// occurs, the source is right when it gives the closer a probability of at least 0.5 (its full
/// softmax, every unit of the vocabulary competing), wrong otherwise. Unlike closing-*type*
/// accuracy (right closer ranked first among the closers only) it does not saturate on prose where
/// a single closer is plausible: the source must also know that the delimiter closes *here*.
///
/// Reported per ``DistanceBucket`` (opener-to-closer distance, units) and overall, with counts.
public struct PositionAwareAccuracy: Codable, Sendable, Equatable {
    /// One distance bucket.
    public struct Bucket: Codable, Sendable, Equatable {
        public var label: String
        public var lower: Int
        public var upper: Int?
        /// Targets in the bucket.
        public var count: Int
        /// Targets with P(expected) ≥ 0.5.
        public var correct: Int
        /// `correct / count`; nil when `count` is 0.
        public var accuracy: Double?
    }

    /// The source's label.
    public var label: String
    public var buckets: [Bucket]
    /// Every target (of any bucket).
    public var overall: Bucket

    /// Scores `predictions`; targets outside every bucket are not counted.
    public init(_ predictions: CloserPredictions, buckets: [DistanceBucket] = DistanceBucket.standard) {
        var counts = [Int](repeating: 0, count: buckets.count)
        var correct = counts
        for (i, target) in predictions.targets.enumerated() {
            guard let b = DistanceBucket.index(of: target.distance, in: buckets) else { continue }
            counts[b] += 1
            if !predictions.isError(i) { correct[b] += 1 }
        }
        func bucket(_ label: String, _ lower: Int, _ upper: Int?, _ n: Int, _ c: Int) -> Bucket {
            Bucket(label: label, lower: lower, upper: upper, count: n, correct: c, accuracy: n > 0 ? Double(c) / Double(n) : nil)
        }
        label = predictions.label
        self.buckets = buckets.indices.map { bucket(buckets[$0].label, buckets[$0].lower, buckets[$0].upper, counts[$0], correct[$0]) }
        overall = bucket("all", buckets.first?.lower ?? 1, buckets.last?.upper, counts.reduce(0, +), correct.reduce(0, +))
    }
}
