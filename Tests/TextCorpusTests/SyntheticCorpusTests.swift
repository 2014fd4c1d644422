import Foundation
import Testing
import TestSupport
@testable import TextCorpus

@Suite struct SyntheticRandomTests {
    @Test func splitMix64MatchesReferenceOutputs() {
        // SplitMix64 from seed 0 (values from the reference algorithm, computed independently in Python).
        var random = SyntheticRandom(seed: 0)
        #expect(random.next() == 0xE220_A839_7B1D_CDAF)
        #expect(random.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(random.next() == 0x06C4_5D18_8009_454F)
    }

    @Test func belowStaysInRangeAndCoversIt() {
        var random = SyntheticRandom(seed: 42)
        var seen = Set<Int>()
        for _ in 0..<2000 {
            let value = random.below(7)
            #expect((0..<7).contains(value))
            seen.insert(value)
        }
        #expect(seen.count == 7)
    }

    @Test func harmonicSamplerFollowsOneOverD() {
        let sampler = HarmonicDistanceSampler(maximum: 100)
        var random = SyntheticRandom(seed: 3)
        let draws = 40_000
        var counts = [Int](repeating: 0, count: 101)
        for _ in 0..<draws { counts[sampler.draw(bound: 100, using: &random)] += 1 }
        #expect(counts[0] == 0)
        // P(1) = 1/H_100 ≈ 0.1927, P(2) = P(1)/2.
        let h100 = (1...100).reduce(0.0) { $0 + 1.0 / Double($1) }
        #expect(abs(Double(counts[1]) / Double(draws) - 1 / h100) < 0.01)
        #expect(abs(Double(counts[2]) / Double(draws) - 0.5 / h100) < 0.01)
        // Truncated bound: never above it.
        for _ in 0..<1000 { #expect(sampler.draw(bound: 5, using: &random) <= 5) }
        let h10 = (1...10).reduce(0.0) { $0 + 1.0 / Double($1) }
        #expect(abs(sampler.cdf(10, bound: 100) - h10 / h100) < 1e-12)
    }
}

@Suite struct SyntheticCorpusTests {
    /// Checks the events against the text: expected unit at `position`, the matching opener at
    /// `openerPosition`, distance, bounds.
    func checkEvents(_ corpus: SyntheticCorpus, openers: [String: String]) {
        let units = Array(corpus.text).map(String.init)
        #expect(units.count == corpus.options.size)
        for event in corpus.events {
            #expect(event.distance == event.position - event.openerPosition)
            #expect(event.distance >= 1 && event.distance <= corpus.options.maxDistance)
            #expect(units[event.position] == event.expected)
            #expect(openers[units[event.openerPosition]] == event.expected)
        }
    }

    @Test func bracketsAreDeterministicExactSizeAndProperlyNested() throws {
        let options = SyntheticOptions(task: .brackets, size: 20_000, maxDistance: 300, seed: 11)
        let a = try SyntheticCorpus(options)
        let b = try SyntheticCorpus(options)
        #expect(a.text == b.text)
        #expect(a.events == b.events)
        let other = try SyntheticCorpus(SyntheticOptions(task: .brackets, size: 20_000, maxDistance: 300, seed: 12))
        #expect(other.text != a.text)
        checkEvents(a, openers: ["(": ")", "[": "]", "{": "}"])

        // The delimiter stack recovers exactly the generated events (proper nesting, nothing unmatched).
        var stack: [(Int, Character)] = []
        var recovered: [SyntheticEvent] = []
        let pairs: [Character: Character] = ["(": ")", "[": "]", "{": "}"]
        for (index, unit) in a.text.enumerated() {
            if pairs[unit] != nil { stack.append((index, unit)) }
            else if [")", "]", "}"].contains(unit) {
                guard let (openerIndex, opener) = stack.popLast() else {
                    Issue.record("closer without opener at \(index)"); return
                }
                #expect(pairs[opener] == unit)
                recovered.append(SyntheticEvent(position: index, openerPosition: openerIndex,
                                                distance: index - openerIndex, expected: String(unit),
                                                depth: stack.count))
            } else {
                let isFiller = unit == " " || ("a"..."z").contains(unit)
                #expect(isFiller)
            }
        }
        #expect(stack.isEmpty)
        #expect(recovered == a.events)
        #expect(a.events.contains { $0.depth >= 2 })
        #expect(a.events.contains { $0.distance > 200 })
    }

    @Test func topLevelBracketDistancesFollowTheDocumentedLaw() throws {
        let maxDistance = 400
        let corpus = try SyntheticCorpus(SyntheticOptions(task: .brackets, size: 300_000,
                                                          maxDistance: maxDistance, seed: 5))
        // Top-level pairs are drawn with bound maxDistance except near the end (truncated by the room left).
        let topLevel = corpus.events.filter { $0.depth == 0 && $0.position < corpus.options.size - maxDistance - 10 }
        #expect(topLevel.count > 2000)
        let sampler = HarmonicDistanceSampler(maximum: maxDistance)
        for d in [1, 3, 10, 30, 100, 200, 350] {
            let empirical = Double(topLevel.filter { $0.distance <= d }.count) / Double(topLevel.count)
            let expected = sampler.cdf(d, bound: maxDistance)
            #expect(abs(empirical - expected) < 0.035, "CDF at \(d): \(empirical) vs \(expected)")
        }
        #expect(topLevel.allSatisfy { $0.distance <= maxDistance })
    }

    @Test func recallRecordsReproduceTheKeyAtTheCue() throws {
        let corpus = try SyntheticCorpus(SyntheticOptions(task: .recall, size: 30_000, maxDistance: 250, seed: 9))
        let units = Array(corpus.text).map(String.init)
        #expect(units.count == 30_000)
        #expect(corpus.events.count > 100)
        for event in corpus.events {
            #expect(units[event.position - 1] == "?")
            #expect(units[event.openerPosition - 1] == "@")
            #expect(units[event.openerPosition] == event.expected)
            #expect(units[event.position] == event.expected)
            #expect(event.distance >= 2 && event.distance <= 250)
            // Only filler in between: no other cue or key marker.
            let between = units[(event.openerPosition + 1)..<(event.position - 1)]
            #expect(!between.contains("?") && !between.contains("@"))
        }
        #expect(corpus.events.contains { $0.distance > 125 })
        #expect(units.filter { $0 == "?" }.count == corpus.events.count)
    }

    @Test func recallDistancesFollowTheDocumentedLaw() throws {
        let maxDistance = 300
        let corpus = try SyntheticCorpus(SyntheticOptions(task: .recall, size: 400_000, maxDistance: maxDistance, seed: 8))
        // d − 1 is drawn from the harmonic law with bound maxDistance − 1 (except near the end).
        let events = corpus.events.filter { $0.position < corpus.options.size - maxDistance - 10 }
        #expect(events.count > 4000)
        let sampler = HarmonicDistanceSampler(maximum: maxDistance - 1)
        for d in [2, 3, 5, 20, 100, 250] {
            let empirical = Double(events.filter { $0.distance <= d }.count) / Double(events.count)
            let expected = sampler.cdf(d - 1, bound: maxDistance - 1)
            #expect(abs(empirical - expected) < 0.03, "CDF at \(d): \(empirical) vs \(expected)")
        }
    }

    @Test func quotesNestTypographicQuotations() throws {
        let corpus = try SyntheticCorpus(SyntheticOptions(task: .quotes, size: 10_000, maxDistance: 200, seed: 1))
        checkEvents(corpus, openers: ["“": "”", "‘": "’", "«": "»"])
        #expect(corpus.text.contains(" the ") || corpus.text.contains("the "))
        #expect(Set(corpus.events.map(\.expected)) == ["”", "’", "»"])
    }

    @Test func smallCorpusIsStableAcrossMachines() throws {
        // Golden prefix: pins the documented algorithm (SplitMix64 + harmonic sampler + generator),
        // so a change that would alter shipped corpora fails here.
        let corpus = try SyntheticCorpus(SyntheticOptions(task: .brackets, size: 64, maxDistance: 20, seed: 7))
        #expect(corpus.text == SyntheticCorpusTests.golden64)
    }
    static let golden64 = "wvkte h[jzi]{qgu v}()vb( df)nkogun{ glz iiyt{}}tnz (r()jejw c)x "

    @Test func badOptionsAreNamed() {
        #expect(throws: SyntheticCorpusError.self) {
            try SyntheticCorpus(SyntheticOptions(task: .brackets, size: 0, maxDistance: 10, seed: 1))
        }
        do {
            _ = try SyntheticCorpus(SyntheticOptions(task: .recall, size: 100, maxDistance: 1, seed: 1))
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("--max-distance"))
        }
    }

    @Test func writesPlainGzipAndEventsFiles() throws {
        let directory = try SharedCorpora.temporaryDirectory("synth")
        defer { try? FileManager.default.removeItem(at: directory) }
        let corpus = try SyntheticCorpus(SyntheticOptions(task: .recall, size: 5000, maxDistance: 100, seed: 2))
        let plain = directory.appendingPathComponent("recall.txt")
        try corpus.write(to: plain)
        #expect(try String(contentsOf: plain, encoding: .utf8) == corpus.text)

        let gz = directory.appendingPathComponent("recall.txt.gz")
        try corpus.write(to: gz)
        let bytes = try Data(contentsOf: gz)
        #expect(bytes.prefix(2) == Data([0x1F, 0x8B]))
        let again = directory.appendingPathComponent("again.gz")
        try corpus.write(to: again)
        #expect(try Data(contentsOf: again) == bytes)    // deterministic
        if let text = gunzip(gz) { #expect(text == corpus.text) }

        let events = SyntheticCorpus.eventsURL(for: plain)
        #expect(events.lastPathComponent == "recall.txt.events.json")
        try corpus.writeEvents(to: events)
        let decoded = try SyntheticCorpus.readEvents(from: Data(contentsOf: events))
        #expect(decoded.events == corpus.events)
        #expect(decoded.options == corpus.options)
        // No temporary files left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
                == ["again.gz", "recall.txt", "recall.txt.events.json", "recall.txt.gz"])
    }

    @Test func gzipWriterStreamsLargeInputInPiecesAndCleansUpWhenDropped() throws {
        let directory = try SharedCorpora.temporaryDirectory("gzipw")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("big.gz")
        var expected = ""
        do {
            let writer = try GzipWriter(url: url, level: 1)
            var random = SyntheticRandom(seed: 1)
            for _ in 0..<50 {
                let piece = String((0..<7000).map { _ in Character(Unicode.Scalar(UInt8(97 + random.below(26)))) })
                expected += piece
                try writer.write(piece)
            }
            #expect(!FileManager.default.fileExists(atPath: url.path))   // not visible before finish
            try writer.finish()
            #expect(throws: GzipWriterError.self) { try writer.write("x") }
        }
        if let text = gunzip(url) { #expect(text == expected) }
        do {
            let writer = try GzipWriter(url: directory.appendingPathComponent("dropped.gz"))
            try writer.write("abandoned")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["big.gz"])
    }

    /// Decompresses with the system's gzip, or nil when it is not installed.
    func gunzip(_ url: URL) -> String? {
        let candidates = ["/usr/bin/gzip", "/bin/gzip"]
        guard let tool = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["-dc", url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }
}
