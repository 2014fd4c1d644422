import Foundation
import NeuralNet
import Testing
import TestSupport
import TextCorpus
@testable import CharRNN

@Suite struct ExperimentSeedsTests {
    static func tinyOptions(_ directory: URL) throws -> VanishingExperiment.Options {
        let corpusURL = directory.appendingPathComponent("brackets.txt")
        let text = try SyntheticCorpus(SyntheticOptions(task: .brackets, size: 6000, maxDistance: 80, seed: 3)).text
        try Data(text.utf8).write(to: corpusURL)
        var options = VanishingExperiment.Options()
        options.corpus = [corpusURL.path]
        options.output = directory.appendingPathComponent("out")
        options.steps = 4
        options.hidden = 8
        options.embedding = 4
        options.bptt = 20
        options.batchSize = 4
        options.flowLength = 30
        options.flowWindows = 2
        options.evalEvery = 2
        options.ngramOrder = 3
        options.threads = 1
        return options
    }

    @Test func twoSeedsGivePerSeedRowsAndAnInterval() throws {
        let directory = try SharedCorpora.temporaryDirectory("seeds")
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = try Self.tinyOptions(directory)
        options.seeds = 2
        options.seed = 7
        options.arms = [VanishingExperiment.Arm(name: "rnn", cell: .rnn, clipNorm: 0.5),
                        VanishingExperiment.Arm(name: "gru", cell: .gru, clipNorm: nil)]
        let experiment = try VanishingExperiment(options: options)
        #expect(experiment.jobs.map(\.directory) == ["rnn/seed-7", "rnn/seed-8", "gru/seed-7", "gru/seed-8"])
        var notes: [String] = []
        let outcome = try experiment.run { notes.append($0) }
        #expect(outcome.runs.map(\.seed) == [7, 8, 7, 8])
        #expect(outcome.arms.map(\.label) == ["rnn", "gru"] && outcome.arms.allSatisfy { $0.seeds == [7, 8] })
        // Different seeds train different models.
        #expect(outcome.runs[0].validationBitsPerUnit != outcome.runs[1].validationBitsPerUnit)
        for job in experiment.jobs {
            for file in ["metrics.jsonl", "config.json", "gradient-flow.json", "long-range.json"] {
                #expect(FileManager.default.fileExists(atPath: options.output.appendingPathComponent("\(job.directory)/\(file)").path))
            }
        }
        // The group's numbers are the interval of its seeds' numbers.
        let rnn = outcome.arms[0]
        let values = outcome.runs[0...1].compactMap(\.validationBitsPerUnit)
        #expect(rnn.validationBitsPerUnit == MeanInterval(samples: values))
        #expect(try #require(rnn.validationBitsPerUnit?.halfWidth) > 0)
        let first = try #require(outcome.runs[0].longRange.buckets.firstIndex { $0.count > 0 })
        #expect(rnn.buckets[first].accuracy == MeanInterval(samples: outcome.runs[0...1].compactMap { $0.longRange.buckets[first].typeAccuracy }))
        #expect(rnn.buckets.map(\.label) == VanishingExperiment.distanceBuckets.map(\.label))
        #expect(rnn.buckets.map(\.count) == outcome.runs[0].longRange.buckets.map(\.count))

        // Tables: the interval table (one row per arm, ±), then one row per seed; the count per bucket is printed.
        let table = try String(contentsOf: options.output.appendingPathComponent("results.md"), encoding: .utf8)
        #expect(table == outcome.table)
        let rows = table.split(separator: "\n").map(String.init)
        #expect(rows.filter { $0.hasPrefix("| rnn | rnn |") }.count == 1 && rows.first { $0.hasPrefix("| rnn | rnn |") }!.contains(" ± "))
        #expect(rows.filter { $0.hasPrefix("| rnn | 7 |") || $0.hasPrefix("| rnn | 8 |") }.count == 2)
        #expect(rows.filter { $0.hasPrefix("| gru | 7 |") || $0.hasPrefix("| gru | 8 |") }.count == 2)
        #expect(rows.filter { $0.hasPrefix("| *targets (n)* |") }.count == 2)
        let counts = try #require(notes.first { $0.hasPrefix("test-split targets by distance:") })
        #expect(counts.contains("1-10 \(outcome.runs[0].longRange.buckets[0].count)"))

        // summary.json holds both levels.
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: options.output.appendingPathComponent("summary.json"))) as? [String: Any])
        #expect((object["runs"] as? [Any])?.count == 4 && (object["arms"] as? [Any])?.count == 2 && object["baseline"] != nil)
        let html = try String(contentsOf: outcome.report, encoding: .utf8)
        #expect(html.contains("chart-long-range-accuracy-delimiters") && html.contains("3-gram"))
    }

    /// Jobs can be run one by one (e.g. by different processes) and joined: the same summaries.
    @Test func jobsRunSeparatelyAndJoinTheSame() throws {
        let directory = try SharedCorpora.temporaryDirectory("seeds-jobs")
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = try Self.tinyOptions(directory)
        options.seeds = 2
        options.ngramOrder = nil
        options.arms = [VanishingExperiment.Arm(name: "lstm", cell: .lstm, clipNorm: nil)]
        let experiment = try VanishingExperiment(options: options)
        let prepared = try experiment.prepare()
        let second = try experiment.run(experiment.jobs[1], in: prepared)
        let first = try experiment.run(experiment.jobs[0], in: prepared)
        let joined = try experiment.finish([first, second], prepared: prepared)
        let whole = try experiment.run()
        #expect(whole.runs.map(\.longRange) == joined.runs.map(\.longRange))
        #expect(whole.runs.map(\.validationBitsPerUnit) == joined.runs.map(\.validationBitsPerUnit))
        #expect(whole.arms.map(\.overall) == joined.arms.map(\.overall))
    }

    @Test func bpttSweepKeepsCharactersEqualAndSplitsInsideFromBeyond() throws {
        let directory = try SharedCorpora.temporaryDirectory("seeds-sweep")
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = try Self.tinyOptions(directory)
        options.seeds = 2
        options.steps = 6
        options.bptt = 10
        options.bpttSweep = [5, 20]
        options.ngramOrder = nil
        options.arms = [VanishingExperiment.Arm(name: "rnn", cell: .rnn, clipNorm: 0.5)]
        let experiment = try VanishingExperiment(options: options)
        #expect(experiment.jobs.map(\.steps) == [12, 12, 3, 3])
        #expect(experiment.jobs.map(\.directory) == ["rnn-T5/seed-1", "rnn-T5/seed-2", "rnn-T20/seed-1", "rnn-T20/seed-2"])
        let outcome = try experiment.run()
        #expect(Set(outcome.runs.map(\.characters)) == [6 * 10 * 4])
        let t20 = try #require(outcome.arms.first { $0.label == "rnn T=20" })
        // Inside T = 20: the pooled accuracy of the buckets wholly ≤ 20, here 1-10 only (11-25 straddles).
        let pooled = outcome.runs.filter { $0.bptt == 20 }.map { run -> Double in
            let b = run.longRange.buckets[0]
            return Double(b.correct) / Double(b.count)
        }
        #expect(t20.insideWindow == MeanInterval(samples: pooled))
        let beyond = outcome.runs.filter { $0.bptt == 20 }.map { run -> Double in
            let far = run.longRange.buckets.filter { $0.lower > 20 }
            return Double(far.reduce(0) { $0 + $1.correct }) / Double(far.reduce(0) { $0 + $1.count })
        }
        #expect(t20.beyondWindow == MeanInterval(samples: beyond))
        // In the table the buckets wholly beyond T = 5 (11-25 and up) are in italics.
        let row = try #require(outcome.table.split(separator: "\n").first { $0.hasPrefix("| rnn T=5 |") })
        #expect(row.contains("| *0.") || row.contains("| *1."))
    }

    @Test func badSeedAndSweepOptionsAreRefused() {
        var options = VanishingExperiment.Options()
        options.seeds = 0
        #expect(options.validationError?.contains("--seeds") == true)
        options.seeds = 3
        options.seed = UInt64.max - 1
        #expect(options.validationError?.contains("--seed") == true)
        options.seed = 1
        options.bpttSweep = [25, 0]
        #expect(options.validationError?.contains("--bptt-sweep") == true)
        options.bpttSweep = [25, 25]
        #expect(options.validationError?.contains("twice") == true)
        options.bpttSweep = nil
        options.buckets = [DistanceBucket(lower: 1, upper: 20), DistanceBucket(lower: 10, upper: 30)]
        #expect(options.validationError?.contains("buckets") == true)
        options.buckets = VanishingExperiment.distanceBuckets
        #expect(options.validationError == nil)
    }
}
