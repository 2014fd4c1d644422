import Foundation
import Testing
@testable import CharRNN

/// The position-aware measure and the error breakdown of `experiment real-text` on hand-made
/// predictions whose answers are known.
@Suite struct RealTextExperimentTests {
    /// Five closers at distances 3, 5, 30, 120 and 700.
    static let targets: [LongRangeTarget] = [(10, 3), (20, 5), (60, 30), (200, 120), (900, 700)].map { position, distance in
        LongRangeTarget(position: position, openerPosition: position - distance, expected: ")", expectedIndex: 0)
    }
    static let baseline = try! CloserPredictions(label: "5-gram", targets: targets, probabilities: [0.9, 0.2, 0.4, 0.1, 0.5])
    static let model = try! CloserPredictions(label: "lstm", targets: targets, probabilities: [0.1, 0.6, 0.3, 0.5, 0.2])

    @Test func positionAwareCountsAProbabilityOfOneHalfAsRight() throws {
        let score = PositionAwareAccuracy(Self.baseline)
        let byLabel = Dictionary(uniqueKeysWithValues: score.buckets.map { ($0.label, $0) })
        #expect(byLabel["1-10"]?.count == 2 && byLabel["1-10"]?.correct == 1)
        #expect(byLabel["11-50"]?.count == 1 && byLabel["11-50"]?.correct == 0)
        #expect(byLabel["51-100"]?.count == 0 && byLabel["51-100"]?.accuracy == nil)
        #expect(byLabel["101-200"]?.accuracy == 0)
        #expect(byLabel[">500"]?.accuracy == 1)          // exactly 0.5 is not an error
        #expect(score.overall.count == 5 && score.overall.correct == 2)
        #expect(PositionAwareAccuracy(Self.model).overall.correct == 2)
    }

    @Test func breakdownIsTheShareOfBaselineErrorsTheModelGetsRight() throws {
        let breakdown = try ErrorBreakdown(baseline: Self.baseline, model: Self.model)
        let byLabel = Dictionary(uniqueKeysWithValues: breakdown.buckets.map { ($0.label, $0) })
        // Baseline errors at distances 5, 30, 120; the model is right at 5 and 120.
        #expect(byLabel["1-10"].map { ($0.targets, $0.baselineErrors, $0.fixed) } ?? (0, 0, 0) == (2, 1, 1))
        #expect(byLabel["11-50"]?.fixedShare == 0)
        #expect(byLabel["101-200"]?.fixedShare == 1)
        #expect(byLabel[">500"]?.baselineErrors == 0 && byLabel[">500"]?.fixedShare == nil)
        #expect(breakdown.overall.baselineErrors == 3 && breakdown.overall.fixed == 2)
        #expect(abs((breakdown.overall.fixedShare ?? 0) - 2.0 / 3) < 1e-12)
        // The other way round: of the model's 3 errors (3, 30, 700) the baseline is right at 3 and 700.
        let reverse = try ErrorBreakdown(baseline: Self.model, model: Self.baseline)
        #expect(reverse.overall.baselineErrors == 3 && reverse.overall.fixed == 2)
        #expect(reverse.buckets.first { $0.label == "11-50" }?.fixed == 0)
    }

    @Test func notANumberIsAnErrorAndMismatchedInputsAreRefused() throws {
        let nan = try CloserPredictions(label: "x", targets: Array(Self.targets.prefix(1)), probabilities: [.nan])
        #expect(nan.isError(0))
        #expect(throws: DiagnosticsError.self) {
            try CloserPredictions(label: "x", targets: Self.targets, probabilities: [0.5])
        }
        #expect(throws: DiagnosticsError.self) {
            try ErrorBreakdown(baseline: Self.baseline, model: nan)
        }
        // Rows of candidate probabilities: the expected candidate's column is taken.
        let t = LongRangeTarget(position: 4, openerPosition: 1, expected: "]", expectedIndex: 1)
        let rows = try CloserPredictions(label: "y", targets: [t], candidateProbabilities: [[0.3, 0.7, 0]])
        #expect(rows.probabilities == [0.7])
        #expect(throws: DiagnosticsError.self) {
            try CloserPredictions(label: "y", targets: [t], candidateProbabilities: [[0.3]])
        }
    }

    /// Corpora are read up to --max-bytes, cut after the last line end (or at a character boundary).
    @Test func prefixIsCutAtALineEnd() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("realtext-prefix-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("t.txt")
        try Data("ab\ncdè\nfgh\n".utf8).write(to: file)
        #expect(try RealTextExperiment.prefix(of: file.path, maxBytes: 8) == "ab\ncdè\n")
        #expect(try RealTextExperiment.prefix(of: file.path, maxBytes: 100) == "ab\ncdè\nfgh\n")
        let oneLine = directory.appendingPathComponent("u.txt")
        try Data("aè".utf8).write(to: oneLine)                  // 'a' then a 2-byte character
        #expect(try RealTextExperiment.prefix(of: oneLine.path, maxBytes: 2) == "a")
    }
}
