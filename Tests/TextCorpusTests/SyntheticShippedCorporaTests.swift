import Foundation
import Testing
import TestSupport
@testable import TextCorpus

/// The corpora shipped in corpora/synth/ and the parameters that make them (the same as the
/// `charrnn corpus synth` commands in corpora/synth/README.md).
///
/// Run with `CHARRNN_WRITE_SYNTH=1` to (re)write the files; otherwise the test checks that every
/// shipped file is byte for byte what the generator makes today.
@Suite struct SyntheticShippedCorporaTests {
    static let shipped: [(file: String, options: SyntheticOptions)] = [
        ("brackets.txt", SyntheticOptions(task: .brackets, size: 200_000, maxDistance: 400, seed: 1)),
        ("recall.txt", SyntheticOptions(task: .recall, size: 100_000, maxDistance: 400, seed: 2)),
        ("quotes.txt", SyntheticOptions(task: .quotes, size: 80_000, maxDistance: 300, seed: 3)),
    ]

    static var directory: URL { SharedCorpora.projectRoot.appendingPathComponent("corpora/synth") }

    @Test func shippedCorporaAreReproducible() throws {
        let write = ProcessInfo.processInfo.environment["CHARRNN_WRITE_SYNTH"] == "1"
        for (file, options) in Self.shipped {
            let corpus = try SyntheticCorpus(options)
            let url = Self.directory.appendingPathComponent(file)
            if write {
                try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
                try corpus.write(to: url)
            }
            guard FileManager.default.fileExists(atPath: url.path) else {
                Issue.record("\(url.path) is missing: run with CHARRNN_WRITE_SYNTH=1"); continue
            }
            let data = try Data(contentsOf: url)
            #expect(data == Data(corpus.text.utf8), "\(file) differs from the generator's output")
            #expect(data.count < 300_000, "\(file) is too big to ship")
        }
    }
}
