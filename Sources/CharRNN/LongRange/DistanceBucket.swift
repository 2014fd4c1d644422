/// A range of opener-to-closer distances (in units) that long-range scores are grouped by.
public struct DistanceBucket: Codable, Sendable, Equatable, Hashable {
    /// Smallest distance in the bucket.
    public var lower: Int
    /// Largest distance in the bucket; nil for the open-ended last bucket.
    public var upper: Int?

    public init(lower: Int, upper: Int?) {
        self.lower = lower; self.upper = upper
    }

    /// `1-10`, `11-50`, …, `>500`.
    public var label: String {
        if let upper { return "\(lower)-\(upper)" }
        return ">\(lower - 1)"
    }

    public func contains(_ distance: Int) -> Bool {
        distance >= lower && (upper.map { distance <= $0 } ?? true)
    }

    /// 1–10, 11–50, 51–100, 101–200, 201–500, >500.
    public static let standard: [DistanceBucket] = [
        DistanceBucket(lower: 1, upper: 10), DistanceBucket(lower: 11, upper: 50),
        DistanceBucket(lower: 51, upper: 100), DistanceBucket(lower: 101, upper: 200),
        DistanceBucket(lower: 201, upper: 500), DistanceBucket(lower: 501, upper: nil),
    ]

    /// Index of the bucket of `buckets` containing `distance`, nil when none does.
    public static func index(of distance: Int, in buckets: [DistanceBucket] = standard) -> Int? {
        buckets.firstIndex { $0.contains(distance) }
    }
}
