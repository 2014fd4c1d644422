import Foundation

extension VanishingExperiment {
    /// One arm (at one window length) over its seeds: every measure as a ``MeanInterval``
    /// (mean ± 95 % Student-t interval; no interval with a single seed).
    public struct GroupSummary: Codable, Sendable, Equatable {
        /// Type accuracy of one distance bucket over the seeds.
        public struct Bucket: Codable, Sendable, Equatable {
            public var label: String
            public var lower: Int
            public var upper: Int?
            /// Targets in the bucket (the same for every seed: one test split).
            public var count: Int
            public var accuracy: MeanInterval?
        }

        /// ``Job/label`` of its runs.
        public var label: String
        public var arm: Arm
        /// Window length T.
        public var bptt: Int
        /// Optimizer steps of each run.
        public var steps: Int
        public var seeds: [UInt64]
        public var validationBitsPerUnit: MeanInterval?
        public var testBitsPerUnit: MeanInterval?
        public var buckets: [Bucket]
        /// Type accuracy over all targets.
        public var overall: MeanInterval?
        /// Type accuracy over the targets of the buckets wholly inside the window (upper edge ≤ T):
        /// the opener was in the same truncated window as the closer for some positions, so a gradient
        /// could connect them.
        public var insideWindow: MeanInterval?
        /// Type accuracy over the targets of the buckets wholly beyond the window (lower edge > T):
        /// no gradient ever connected opener and closer; what the model knows there it learned by generalizing.
        public var beyondWindow: MeanInterval?
        /// Gradient-flow decay factor per layer (bottom first).
        public var decayFactors: [MeanInterval?]
        public var clipRate: MeanInterval?
        /// Training seconds per run.
        public var seconds: MeanInterval?

        enum CodingKeys: String, CodingKey {
            case label, arm, bptt, steps, seeds, buckets, overall, seconds
            case validationBitsPerUnit = "validation_bits_per_unit"
            case testBitsPerUnit = "test_bits_per_unit"
            case insideWindow = "inside_window"
            case beyondWindow = "beyond_window"
            case decayFactors = "decay_factors"
            case clipRate = "clip_rate"
        }

        /// Groups `runs` by label (in order of first appearance) and summarizes each group.
        public static func group(_ runs: [RunSummary]) -> [GroupSummary] {
            var order: [String] = []
            var byLabel: [String: [RunSummary]] = [:]
            for run in runs {
                if byLabel[run.label] == nil { order.append(run.label) }
                byLabel[run.label, default: []].append(run)
            }
            return order.compactMap { byLabel[$0].flatMap(GroupSummary.init(runs:)) }
        }

        /// The summary of the runs of one group (nil when `runs` is empty).
        public init?(runs: [RunSummary]) {
            guard let first = runs.first else { return nil }
            label = first.label; arm = first.arm; bptt = first.bptt; steps = first.steps
            seeds = runs.map(\.seed)
            validationBitsPerUnit = MeanInterval(samples: runs.compactMap(\.validationBitsPerUnit))
            testBitsPerUnit = MeanInterval(samples: runs.compactMap(\.testBitsPerUnit))
            buckets = first.longRange.buckets.indices.map { i in
                let b = first.longRange.buckets[i]
                let values = runs.compactMap { $0.longRange.buckets.indices.contains(i) ? $0.longRange.buckets[i].typeAccuracy : nil }
                return Bucket(label: b.label, lower: b.lower, upper: b.upper, count: b.count, accuracy: MeanInterval(samples: values))
            }
            overall = MeanInterval(samples: runs.compactMap(\.longRange.overall.typeAccuracy))
            let window = first.bptt
            insideWindow = MeanInterval(samples: runs.compactMap {
                Self.accuracy($0.longRange.buckets.filter { $0.upper.map { $0 <= window } ?? false })
            })
            beyondWindow = MeanInterval(samples: runs.compactMap { Self.accuracy($0.longRange.buckets.filter { $0.lower > window }) })
            let layers = runs.map(\.decayFactors.count).max() ?? 0
            decayFactors = (0..<layers).map { layer in
                MeanInterval(samples: runs.compactMap { $0.decayFactors.indices.contains(layer) ? $0.decayFactors[layer] : nil })
            }
            clipRate = MeanInterval(samples: runs.map(\.clipRate))
            seconds = MeanInterval(samples: runs.map(\.seconds))
        }

        /// Pooled type accuracy (correct / count) over `buckets`; nil when they hold no target.
        static func accuracy(_ buckets: [LongRangeBucketScore]) -> Double? {
            let n = buckets.reduce(0) { $0 + $1.count }
            return n > 0 ? Double(buckets.reduce(0) { $0 + $1.correct }) / Double(n) : nil
        }
    }

    /// One row per arm (and window length): mean ± 95 % interval over the seeds of bits per unit and
    /// long-range type accuracy by bucket, pooled inside (distance ≤ T) and beyond (> T) the training
    /// window, and the decay factor; accuracies of buckets beyond the window are in italics. Then the
    /// baseline and the targets per bucket.
    public static func intervalTable(_ groups: [GroupSummary], baseline: LongRangeResult?) -> String {
        let scored = Set(groups.flatMap { $0.buckets.filter { $0.count > 0 }.map(\.label) }
                         + (baseline?.buckets.filter { $0.count > 0 }.map(\.label) ?? []))
        let labels = (groups.first?.buckets.map(\.label) ?? baseline?.buckets.map(\.label) ?? []).filter(scored.contains)
        func cell(_ value: MeanInterval?) -> String { value?.formatted() ?? "-" }
        var header = "| run | cell | clip | T | steps | seeds | val bits/unit | "
        header += labels.map { "acc \($0)" }.joined(separator: " | ")
        header += " | acc all | acc ≤ T | acc > T | decay factor |"
        var lines = [header, "|" + String(repeating: " --- |", count: 11 + labels.count)]
        for group in groups {
            var row = "| \(group.label) | \(group.arm.cell.rawValue)\(group.arm.layers > 1 ? " ×\(group.arm.layers) \(group.arm.skip.rawValue)" : "") | "
            row += "\(group.arm.clipNorm.map { number($0, "%g") } ?? "off") | \(group.bptt) | \(group.steps) | \(group.seeds.count) | "
            row += "\(group.validationBitsPerUnit?.formatted() ?? "-") | "
            row += labels.map { label -> String in
                guard let bucket = group.buckets.first(where: { $0.label == label }) else { return "-" }
                let text = cell(bucket.accuracy)
                return bucket.lower > group.bptt && bucket.accuracy != nil ? "*\(text)*" : text
            }.joined(separator: " | ")
            row += " | \(cell(group.overall)) | \(cell(group.insideWindow)) | \(cell(group.beyondWindow)) | "
            row += group.decayFactors.map(cell).joined(separator: " / ") + " |"
            lines.append(row)
        }
        if let baseline {
            let values = labels.map { label in
                number(baseline.buckets.first { $0.label == label }?.typeAccuracy)
            }
            lines.append("| \(baseline.label) | n-gram | - | - | - | - | - | " + values.joined(separator: " | ")
                         + " | \(number(baseline.overall.typeAccuracy)) | - | - | - |")
        }
        if let counts = groups.first?.buckets ?? baseline.map({ $0.buckets.map { GroupSummary.Bucket(label: $0.label, lower: $0.lower, upper: $0.upper, count: $0.count, accuracy: nil) } }) {
            let n = labels.map { label in "\(counts.first { $0.label == label }?.count ?? 0)" }
            lines.append("| *targets (n)* | | | | | | | " + n.joined(separator: " | ")
                         + " | \(counts.reduce(0) { $0 + $1.count }) | | | |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
