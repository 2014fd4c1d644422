import Foundation
import Testing
import TestSupport
@testable import CharRNN

@Suite struct MetricsTests {
    @Test func recordRoundTripsThroughJSONLines() throws {
        let train = MetricsRecord(kind: .train, step: 3, epoch: 0, time: 1.5, loss: 2.0,
                                  gradNorm: 6.5, clipped: true, learningRate: 0.002,
                                  unitsPerSecond: 1000, skippedSteps: 0)
        let eval = MetricsRecord(kind: .eval, step: 3, epoch: 0, time: 1.7, loss: 1.9, split: "validation")
        let text = try train.jsonLine() + "\n\n" + eval.jsonLine() + "\n"
        #expect(try train.jsonLine().contains("\"grad_norm\":6.5"))
        #expect(try MetricsRecord.parseLines(text) == [train, eval])
    }

    @Test func malformedLineIsNamed() {
        let text = "{\"kind\":\"eval\",\"step\":1,\"epoch\":0,\"time\":0,\"loss\":1}\n{oops\n"
        #expect(throws: MetricsError.malformedLine(2)) { try MetricsRecord.parseLines(text) }
    }

    @Test func bitsPerUnitIsLossOverLn2() {
        let record = MetricsRecord(kind: .eval, step: 0, epoch: 0, time: 0, loss: 2 * 0.6931471805599453)
        #expect(abs((record.bitsPerUnit ?? 0) - 2) < 1e-12)
    }
}

@Suite struct MetricsLogTests {
    @Test func resumeKeepsOnlyRecordsUpToTheCheckpointStep() throws {
        let directory = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("metrics.jsonl")
        do {
            let log = try MetricsLog(url: url)
            for step in 1...5 { try log.append(MetricsRecord(kind: .train, step: step, epoch: 0, time: Double(step), loss: 1)) }
        }
        do {
            let log = try MetricsLog(url: url, keepingThrough: 3)
            try log.append(MetricsRecord(kind: .eval, step: 4, epoch: 0, time: 4, loss: 2, split: "validation"))
        }
        let records = try MetricsRecord.parseLines(String(decoding: try Data(contentsOf: url), as: UTF8.self))
        #expect(records.map(\.step) == [1, 2, 3, 4])
        #expect(records.last?.kind == .eval)
        // A fresh log (no resume) starts empty.
        _ = try MetricsLog(url: url)
        #expect(try Data(contentsOf: url).isEmpty)
    }
}
