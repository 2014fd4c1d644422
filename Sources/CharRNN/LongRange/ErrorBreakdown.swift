/// The error breakdown of Karpathy, Johnson & Fei-Fei (2015), at closers: of the targets a baseline
/// (an n-gram) gets wrong — P(right closer) < 0.5, see ``CloserPredictions`` — the share a model
/// gets right, by opener-to-closer distance. What the model "fixes" beyond the baseline's context.
public struct ErrorBreakdown: Codable, Sendable, Equatable {
    /// One distance bucket.
    public struct Bucket: Codable, Sendable, Equatable {
        public var label: String
        public var lower: Int
        public var upper: Int?
        /// Targets in the bucket.
        public var targets: Int
        /// Of those, the baseline's errors.
        public var baselineErrors: Int
        /// Of the baseline's errors, those the model gets right.
        public var fixed: Int
        /// `fixed / baselineErrors`; nil when the baseline made no error here.
        public var fixedShare: Double?

        enum CodingKeys: String, CodingKey {
            case label, lower, upper, targets, fixed
            case baselineErrors = "baseline_errors"
            case fixedShare = "fixed_share"
        }
    }

    /// The baseline's label (e.g. `20-gram`).
    public var baseline: String
    /// The model's label (e.g. `lstm`).
    public var model: String
    public var buckets: [Bucket]
    public var overall: Bucket

    /// Compares two sources on the same targets.
    /// - Throws: `DiagnosticsError.invalidOption("model", …)` when the two were scored on different targets.
    public init(baseline: CloserPredictions, model: CloserPredictions,
                buckets: [DistanceBucket] = DistanceBucket.standard) throws {
        guard baseline.targets.map(\.position) == model.targets.map(\.position) else {
            throw DiagnosticsError.invalidOption("model", "\(model.label) and \(baseline.label) were scored on different targets")
        }
        var targets = [Int](repeating: 0, count: buckets.count)
        var errors = targets, fixed = targets
        for (i, target) in baseline.targets.enumerated() {
            guard let b = DistanceBucket.index(of: target.distance, in: buckets) else { continue }
            targets[b] += 1
            guard baseline.isError(i) else { continue }
            errors[b] += 1
            if !model.isError(i) { fixed[b] += 1 }
        }
        func bucket(_ label: String, _ lower: Int, _ upper: Int?, _ n: Int, _ e: Int, _ f: Int) -> Bucket {
            Bucket(label: label, lower: lower, upper: upper, targets: n, baselineErrors: e, fixed: f,
                   fixedShare: e > 0 ? Double(f) / Double(e) : nil)
        }
        self.baseline = baseline.label
        self.model = model.label
        self.buckets = buckets.indices.map {
            bucket(buckets[$0].label, buckets[$0].lower, buckets[$0].upper, targets[$0], errors[$0], fixed[$0])
        }
        overall = bucket("all", buckets.first?.lower ?? 1, buckets.last?.upper, targets.reduce(0, +),
                         errors.reduce(0, +), fixed.reduce(0, +))
    }
}
