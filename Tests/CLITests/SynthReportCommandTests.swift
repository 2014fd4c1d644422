import Foundation
import Testing
import TestSupport
import TextCorpus
@testable import CharRNNCLI

@Suite struct SynthReportCommandTests {
    @Test func synthCommandWritesExactlyTheLibraryCorpus() throws {
        let directory = try SharedCorpora.temporaryDirectory("synth-cli")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("b.txt").path
        let command = try SynthCommand.parse(["brackets", "--size", "3000", "--max-distance", "120", "--seed", "4",
                                              "-o", path, "--events"])
        try command.run()
        let library = try SyntheticCorpus(SyntheticOptions(task: .brackets, size: 3000, maxDistance: 120, seed: 4))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(library.text.utf8))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path + ".events.json")) == library.eventsJSON())

        let gz = directory.appendingPathComponent("r.bin").path
        try SynthCommand.parse(["recall", "--size", "500", "--max-distance", "50", "-o", gz, "--gzip"]).run()
        #expect(try Data(contentsOf: URL(fileURLWithPath: gz)).prefix(2) == Data([0x1F, 0x8B]))
        #expect(throws: (any Error).self) { try SynthCommand.parse(["mazes", "-o", path]) }
        #expect(throws: (any Error).self) {
            try SynthCommand.parse(["recall", "--max-distance", "1", "-o", path]).run()
        }
        #expect(SynthCommand.helpMessage().contains("--max-distance"))
    }

    @Test func reportCommandNamesMissingMetrics() throws {
        let directory = try SharedCorpora.temporaryDirectory("report-cli")
        defer { try? FileManager.default.removeItem(at: directory) }
        let command = try ReportCommand.parse([directory.path, "-o", directory.appendingPathComponent("r.html").path])
        do { try command.run(); Issue.record("expected an error") } catch {
            #expect("\(error)".contains("metrics.jsonl"))
        }
        #expect(throws: (any Error).self) { try ReportCommand.parse([]) }
    }
}
