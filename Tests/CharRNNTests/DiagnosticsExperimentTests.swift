import Foundation
import NeuralNet
import Testing
import TestSupport
import TextCorpus
@testable import CharRNN

@Suite struct DiagnosticsExperimentTests {
    @Test func tinyExperimentWritesEveryRunDirectoryAndTheReport() throws {
        let directory = try SharedCorpora.temporaryDirectory("vanishing")
        defer { try? FileManager.default.removeItem(at: directory) }
        // The tiny budget of ExperimentSeedsTests (which writes brackets.txt), with more steps.
        var options = try ExperimentSeedsTests.tinyOptions(directory)
        let corpusURL = directory.appendingPathComponent("brackets.txt")
        options.steps = 6
        options.flowWindows = 3
        options.evalEvery = 3
        options.clipNorm = 1e-3   // every step clips
        options.seeds = 1
        options.arms = [VanishingExperiment.Arm(name: "a-rnn", cell: .rnn, clipNorm: 1e-3),
                        VanishingExperiment.Arm(name: "b-lstm-dense", cell: .lstm, layers: 2, skip: .dense, clipNorm: nil)]
        var notes: [String] = []
        let outcome = try VanishingExperiment(options: options).run { notes.append($0) }
        #expect(outcome.runs.map(\.arm.name) == ["a-rnn", "b-lstm-dense"])
        let rnn = outcome.runs[0], lstm = outcome.runs[1]
        #expect(rnn.steps == 6 && rnn.clipRate == 1 && rnn.aboveThresholdRate == 1)
        #expect(lstm.clipRate == 0 && lstm.aboveThresholdRate == 1 && lstm.maxGradientNorm > 0)
        #expect(rnn.decayFactors.count == 1 && lstm.decayFactors.count == 2)
        #expect(rnn.validationBitsPerUnit != nil && rnn.testBitsPerUnit != nil)

        // The long-range numbers in the summary are those of a fresh evaluation of the saved model.
        let corpus = try TokenCorpus.load(paths: [corpusURL.path], validationFraction: 0.05, testFraction: 0.1)
        let saved = try Checkpoint.load(from: rnn.directory)
        let again = try ModelLongRangeEvaluation.evaluate(model: saved.model, ids: corpus.test, vocabulary: corpus.vocabulary,
                                                          task: .delimiters, buckets: options.buckets).result
        #expect(again == rnn.longRange)
        #expect(rnn.longRange.overall.count > 10)
        let baseline = try #require(outcome.baseline)
        #expect(baseline.label == "3-gram" && baseline.overall.count == rnn.longRange.overall.count)

        for name in ["a-rnn", "b-lstm-dense"] {
            for file in ["metrics.jsonl", "config.json", "gradient-flow.json", "long-range.json"] {
                #expect(FileManager.default.fileExists(atPath: options.output.appendingPathComponent("\(name)/seed-1/\(file)").path), "\(name)/\(file)")
            }
        }
        let flow = try GradientFlowResult.decode(Data(contentsOf: options.output.appendingPathComponent("b-lstm-dense/seed-1/gradient-flow.json")))
        #expect(flow.layers.count == 2 && flow.length == 30 && flow.windows == 3 && flow.layers[0].cellNorms != nil)
        let html = try String(contentsOf: outcome.report, encoding: .utf8)
        for id in ["chart-gradient-flow", "chart-long-range-accuracy-delimiters", "table-summary", "3-gram"] {
            #expect(html.contains(id), "\(id)")
        }
        let table = try String(contentsOf: options.output.appendingPathComponent("results.md"), encoding: .utf8)
        #expect(table == outcome.table)
        // The per-seed table follows the interval table: header, rule, two runs, baseline, counts.
        let rows = try #require(table.components(separatedBy: "Per seed:\n\n").last).split(separator: "\n")
        #expect(rows.count == 2 + 2 + 2)
        #expect(rows[2].hasPrefix("| a-rnn | 1 | rnn | 1, none | 0.001 |") && rows[3].contains("| off |"))
        #expect(notes.contains { $0.hasPrefix("a-rnn seed 1: done") })
    }

    @Test func invalidOptionsAreRejected() {
        var options = VanishingExperiment.Options()
        options.steps = 0
        #expect(throws: DiagnosticsError.self) { try VanishingExperiment(options: options) }
        options.steps = 1
        options.arms = []
        #expect(throws: DiagnosticsError.self) { try VanishingExperiment(options: options) }
    }
}
