import Foundation
import Testing
@testable import CharRNN

@Suite struct LongRangeScanTests {
    func units(_ text: String) -> [String] { text.map(String.init) }

    @Test func nestedPairsGiveTargetsWithDistances() {
        let scan = DelimiterScan(text: "a(b[c]d)e")
        #expect(scan.targets == [
            LongRangeTarget(position: 5, openerPosition: 3, expected: "]", expectedIndex: 1),
            LongRangeTarget(position: 7, openerPosition: 1, expected: ")", expectedIndex: 0),
        ])
        #expect(scan.targets.map(\.distance) == [2, 6])
        #expect(scan.openers == 2 && scan.closers == 2)
        #expect(scan.unmatchedClosers == 0 && scan.mismatchedClosers == 0 && scan.unclosedOpeners == 0)
    }

    @Test func unbalancedAndStraightQuotesAreCountedAndSkipped() {
        // ) at 0 has nothing open; ] at 4 meets "(" innermost; " at 6 opens (innermost is "(");
        // " at 8 closes it; " at 10 opens again and stays open with "(".
        let scan = DelimiterScan(text: ")x(y]z\"q\"w\"")
        #expect(scan.targets == [LongRangeTarget(position: 8, openerPosition: 6, expected: "\"", expectedIndex: 6)])
        #expect(scan.unmatchedClosers == 1)
        #expect(scan.mismatchedDistances == [2])
        #expect(scan.unclosedOpeners == 2)
        #expect(scan.openers == 3 && scan.closers == 3)
    }

    @Test func straightQuoteInsideBracketsOpensAgain() {
        // " opens, ( opens, " opens (innermost is "("), ) is mismatched (innermost is the inner "),
        // the last " closes the inner one.
        let scan = DelimiterScan(text: "\"a(b\"c)d\"")
        #expect(scan.targets.map(\.position) == [8])
        #expect(scan.targets.map(\.openerPosition) == [4])
        #expect(scan.mismatchedClosers == 1 && scan.unclosedOpeners == 2)
    }

    @Test func typographicQuotesAndGuillemets() {
        let scan = DelimiterScan(text: "«a “b ‘c’ d” e» it’s")
        #expect(scan.targets.map(\.expected) == ["’", "”", "»"])
        #expect(scan.targets.map(\.distance) == [2, 8, 14])
        #expect(scan.unmatchedClosers == 1)           // the apostrophe in "it’s"
    }

    @Test func recallScanUsesTheLastKey() {
        let scan = RecallScan(units: units("?A@Qab?Q\n@Zc?Y"))
        #expect(scan.cuesWithoutKey == 1)
        #expect(scan.targets == [
            LongRangeTarget(position: 7, openerPosition: 3, expected: "Q", expectedIndex: 16),
            LongRangeTarget(position: 13, openerPosition: 10, expected: "Z", expectedIndex: 25),
        ])
    }
}

@Suite struct LongRangeScorerTests {
    @Test func handBuiltProbabilityTables() throws {
        // Closers: ) ] } ” ’ » "
        var scorer = LongRangeScorer()
        let t1 = LongRangeTarget(position: 3, openerPosition: 0, expected: ")", expectedIndex: 0)     // d 3
        let t2 = LongRangeTarget(position: 9, openerPosition: 4, expected: "]", expectedIndex: 1)     // d 5
        let t3 = LongRangeTarget(position: 130, openerPosition: 100, expected: "}", expectedIndex: 2) // d 30
        let t4 = LongRangeTarget(position: 700, openerPosition: 100, expected: "\"", expectedIndex: 6) // d 600
        scorer.add(t1, probabilities: [0.5, 0.1, 0, 0, 0, 0, 0.1])        // right, p 0.5
        scorer.add(t2, probabilities: [0.3, 0.2, 0, 0, 0, 0, 0])          // wrong, p 0.2
        scorer.add(t3, probabilities: [0.1, 0.1, 0.1, 0, 0, 0, 0])        // tie → wrong, p 0.1
        scorer.add(t4, probabilities: [0, 0, 0, 0, 0, 0.01, 0.02])        // right, p 0.02
        let result = scorer.result(label: "hand", task: .delimiters)
        #expect(result.buckets.map(\.count) == [2, 1, 0, 0, 0, 1])
        #expect(result.buckets[0].typeAccuracy == 0.5)
        #expect(abs(result.buckets[0].meanProbability! - 0.35) < 1e-12)
        #expect(result.buckets[1].typeAccuracy == 0 && result.buckets[1].meanProbability == 0.1)
        #expect(result.buckets[2].typeAccuracy == nil && result.buckets[2].meanProbability == nil)
        #expect(result.buckets[5].typeAccuracy == 1 && result.buckets[5].meanProbability == 0.02)
        #expect(result.overall.count == 4 && result.overall.correct == 2)
        #expect(abs(result.overall.meanProbability! - 0.82 / 4) < 1e-12)
        #expect(result.buckets.map(\.label) == ["1-10", "11-50", "51-100", "101-200", "201-500", ">500"])
    }

    @Test func evaluationOverATextWithAProbabilityProvider() {
        // A provider that is right only for round brackets.
        let text = "(ab)[c]x) (" .map(String.init)
        let closers = DelimiterSet.standard.closers
        let result = LongRangeEvaluation.delimiters(units: text, label: "round-only") { target in
            closers.map { $0 == ")" ? 0.6 : 0.05 }
        }
        #expect(result.overall.count == 2)
        #expect(result.overall.correct == 1)
        #expect(abs(result.overall.meanProbability! - (0.6 + 0.05) / 2) < 1e-12)
        #expect(result.skipped == .init(unmatchedClosers: 1, mismatchedClosers: 0, unclosedOpeners: 1))
    }

    @Test func textWithoutDelimitersGivesAnEmptyTableThatSaysSo() {
        let result = LongRangeEvaluation.delimiters(units: "plain words only".map(String.init), label: "m") { _ in
            Issue.record("no targets expected"); return []
        }
        #expect(result.isEmpty)
        #expect(result.buckets.allSatisfy { $0.count == 0 })
        #expect(result.table().contains("nothing to score"))
    }

    @Test func recallScoredOverTheKeyAlphabet() {
        let units = "@Qab?Q\n@Zc?Y".map(String.init)
        let result = LongRangeEvaluation.recall(units: units, label: "m") { target in
            // Always bets on Q.
            RecallScan.keys.map { $0 == "Q" ? 0.9 : 0.001 }
        }
        #expect(result.task == .recall)
        #expect(result.overall.count == 2 && result.overall.correct == 1)
        #expect(abs(result.overall.meanProbability! - (0.9 + 0.001) / 2) < 1e-12)
    }

    @Test func gatherPicksCandidateIDsFromAFullDistribution() {
        let distribution: [Float] = [0.1, 0.2, 0.3, 0.4]
        #expect(LongRangeScorer.gather(distribution, ids: [3, nil, 0, 9]).map { Float($0) } == [0.4, 0, 0.1, 0])
        let ids = DelimiterSet.standard.closerIDs { ["a", ")", "]"].firstIndex(of: $0) }
        #expect(ids == [1, 2, nil, nil, nil, nil, nil])
    }

    @Test func resultJSONUsesSnakeCaseAndRoundTrips() throws {
        var scorer = LongRangeScorer()
        scorer.add(LongRangeTarget(position: 20, openerPosition: 0, expected: ")", expectedIndex: 0),
                   probabilities: [0.9, 0, 0, 0, 0, 0, 0])
        let report = LongRangeReport(source: "valid.txt", results: [scorer.result(label: "model", task: .delimiters)])
        let data = try report.encoded()
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"type_accuracy\""))
        #expect(text.contains("\"mean_probability\""))
        #expect(text.contains("\"unmatched_closers\""))
        #expect(try LongRangeReport.decode(data) == report)
        // A bare result also decodes.
        let bare = try JSONEncoder().encode(report.results[0])
        #expect(try LongRangeReport.decode(bare).results == report.results)
    }
}

@Suite struct GeneratedTextReportTests {
    @Test func sharesByDistanceAndClosedOpeners() {
        // "(a)" matched d 2; "[" at 4 … "}" at 6 mismatched d 2; "]" at 7 matched d 3; ")" at 9 unmatched;
        // "{" at 11 never closed.
        let report = GeneratedTextDelimiterReport(text: "(a) [b}] ) {")
        #expect(report.openers == 3)
        #expect(report.closedOpeners == 2)
        #expect(report.closers == 4)
        #expect(report.matchedClosers == 2 && report.mismatchedClosers == 1 && report.unmatchedClosers == 1)
        #expect(report.matchShare == 0.5)
        #expect(abs(report.closedShare! - 2.0 / 3.0) < 1e-12)
        #expect(report.buckets[0].closers == 3 && report.buckets[0].matched == 2)
        #expect(abs(report.buckets[0].matchShare! - 2.0 / 3.0) < 1e-12)
        #expect(report.buckets[1].matchShare == nil)
        #expect(report.rendered.contains("openers: 3, closed before the end: 2 (66.7%)"))
        let json = String(decoding: try! JSONEncoder().encode(report), as: UTF8.self)
        #expect(json.contains("\"closed_share\""))
    }

    @Test func noDelimitersIsSaid() {
        let report = GeneratedTextDelimiterReport(text: "nothing here")
        #expect(report.matchShare == nil && report.closedShare == nil)
        #expect(report.rendered.contains("no delimiters found"))
    }
}
