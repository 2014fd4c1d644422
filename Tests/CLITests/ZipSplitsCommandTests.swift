import CharRNN
import Foundation
import Testing
import TestSupport
import TextCorpus
@testable import CharRNNCLI

/// `corpus inspect` / `train` / `eval` on zip archives and with explicit split files, through the built binary.
@Suite(.serialized) struct ZipSplitsCommandTests {
    typealias CLI = CorpusCommandTests

    static let trainText = String(repeating: "abc (def) [ghi] {jkl} mno pqr ", count: 40)
    static let validText = String(repeating: "abc def ghi jkl ", count: 8)
    static let testText = String(repeating: "(mno) [pqr] abc ", count: 9)

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// A folder with data.zip (wiki.train.raw stored, wiki.test.raw stored) and a plain valid.txt.
    static func corpusFolder() throws -> URL {
        let root = try SharedCorpora.temporaryDirectory("charrnn-cli-zip")
        let archive = ZipFixture.archive([
            .directory("wikitext/"),
            ZipFixture.Entry(name: "wikitext/wiki.train.raw", data: Array(trainText.utf8)),
            ZipFixture.Entry(name: "wikitext/wiki.test.raw", data: Array(testText.utf8)),
        ])
        try Data(archive).write(to: root.appendingPathComponent("data.zip"))
        try Data(validText.utf8).write(to: root.appendingPathComponent("valid.txt"))
        try Data(trainText.utf8).write(to: root.appendingPathComponent("train.txt"))
        return root
    }

    @Test func inspectReadsArchivesAndMembers() throws {
        let root = try Self.corpusFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let zip = root.appendingPathComponent("data.zip").path
        let whole = try CLI.run(["corpus", "inspect", zip, "--json", "--top", "0"])
        #expect(whole.status == 0, "\(whole.stderr)")
        let report = try Self.json(whole.stdout)
        #expect(report["sources"] as? [String] == ["\(zip):wikitext/wiki.train.raw", "\(zip):wikitext/wiki.test.raw"])
        #expect(report["zip_members"] as? Int == 2)
        #expect(report["units"] as? Int == Self.trainText.count + Self.testText.count)

        let member = try CLI.run(["corpus", "inspect", "\(zip):wikitext/wiki.train.raw", "--json", "--top", "0"])
        #expect(member.status == 0, "\(member.stderr)")
        #expect(try Self.json(member.stdout)["units"] as? Int == Self.trainText.count)

        let missing = try CLI.run(["corpus", "inspect", "\(zip):wiki.train.raw"])
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("charrnn: error: \(zip):wiki.train.raw: no member named 'wiki.train.raw'"))
        #expect(missing.stderr.contains("wikitext/wiki.train.raw, wikitext/wiki.test.raw"))
        #expect(missing.stderr.split(separator: "\n").count == 1)

        // A truncated archive: one line, exit 1, no crash.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: zip))
        let cut = root.appendingPathComponent("cut.zip")
        try bytes.prefix(bytes.count - 30).write(to: cut)
        let truncated = try CLI.run(["corpus", "inspect", cut.path])
        #expect(truncated.status == 1)
        #expect(truncated.stderr.hasPrefix("charrnn: error: \(cut.path): corrupt zip archive"))
        #expect(truncated.stderr.split(separator: "\n").count == 1)
    }

    @Test func inspectWithSplitFilesAndConflictingFractions() throws {
        let root = try Self.corpusFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let zip = root.appendingPathComponent("data.zip").path
        let train = root.appendingPathComponent("train.txt").path, valid = root.appendingPathComponent("valid.txt").path
        let run = try CLI.run(["corpus", "inspect", train, "--valid-file", valid, "--test-file", "\(zip):wikitext/wiki.test.raw",
                               "--json", "--top", "0"])
        #expect(run.status == 0, "\(run.stderr)")
        let splits = try #require(try Self.json(run.stdout)["splits"] as? [String: Int])
        #expect(splits == ["train": Self.trainText.count, "validation": Self.validText.count, "test": Self.testText.count])

        // Only a validation file: the test fraction still cuts the positional text.
        let half = try CLI.run(["corpus", "inspect", train, "--valid-file", valid, "--test-fraction", "0.1", "--json", "--top", "0"])
        #expect(half.status == 0, "\(half.stderr)")
        let halfSplits = try #require(try Self.json(half.stdout)["splits"] as? [String: Int])
        #expect(halfSplits == ["train": Self.trainText.count - Self.trainText.count / 10, "validation": Self.validText.count,
                               "test": Self.trainText.count / 10])

        let conflict = try CLI.run(["corpus", "inspect", train, "--valid-file", valid, "--val-fraction", "0.1"])
        #expect(conflict.status == 1)
        #expect(conflict.stderr.contains("--val-fraction and --valid-file both set the validation split"))
        let testConflict = try CLI.run(["corpus", "inspect", train, "--test-file", valid, "--test-fraction", "0"])
        #expect(testConflict.status == 1)
        #expect(testConflict.stderr.contains("--test-fraction and --test-file"))
    }

    @Test func trainOnZipMemberWithSplitFilesThenEvalTheTestFile() throws {
        let root = try Self.corpusFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let zip = root.appendingPathComponent("data.zip").path
        let valid = root.appendingPathComponent("valid.txt").path
        let testMember = "\(zip):wikitext/wiki.test.raw"
        let out = root.appendingPathComponent("run").path
        let train = try CLI.run(["train", "\(zip):wikitext/wiki.train.raw", "--valid-file", valid, "--test-file", testMember,
                                 "--hidden", "16", "--embed", "8", "--layers", "1", "--bptt", "10", "--batch", "4",
                                 "--max-steps", "6", "--eval-every", "3", "--checkpoint-every", "3", "--threads", "1",
                                 "--out", out, "--quiet"])
        #expect(train.status == 0, "\(train.stderr)")

        // The configuration records the split files and the split sizes of exactly those files.
        let configuration = try RunConfiguration.load(from: URL(fileURLWithPath: "\(out)/latest/config.json"))
        #expect(configuration.corpus.paths == ["\(zip):wikitext/wiki.train.raw"])
        #expect(configuration.corpus.validationFiles == [valid])
        #expect(configuration.corpus.testFiles == [testMember])
        #expect(configuration.corpus.trainUnits == Self.trainText.count)
        #expect(configuration.corpus.validationUnits == Self.validText.count)
        #expect(configuration.corpus.testUnits == Self.testText.count)
        #expect(configuration.training.validationFraction == 0 && configuration.training.testFraction == 0)

        // `--split test` without PATH scores the recorded test file; the same figure as naming it.
        let recorded = try CLI.run(["eval", out, "--split", "test", "--json"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let named = try CLI.run(["eval", out, testMember, "--json"])
        #expect(named.status == 0, "\(named.stderr)")
        let recordedResult = try Self.json(recorded.stdout), namedResult = try Self.json(named.stdout)
        #expect(recordedResult["units"] as? Int == Self.testText.count - 1)
        #expect((recordedResult["nats_per_unit"] as? Double) == (namedResult["nats_per_unit"] as? Double))
        let text = try CLI.run(["eval", out, "--split", "validation"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.hasPrefix("validation file \(valid): \(Self.validText.count - 1) units scored"))

        // A PATH with --split test cannot mean a fraction the run never applied.
        let refused = try CLI.run(["eval", out, testMember, "--split", "test"])
        #expect(refused.status == 1)
        #expect(refused.stderr.hasPrefix("charrnn: error: --split test: the checkpoint's test split is the file \(testMember)"))
        #expect(refused.stderr.split(separator: "\n").count == 1)
        let nothing = try CLI.run(["eval", out])
        #expect(nothing.status == 1)
        #expect(nothing.stderr.hasPrefix("charrnn: error: PATH: give a corpus PATH to score"))
        // --long-range defaults to the test split: the recorded file, the n-gram fitted on the training file.
        let longRange = try CLI.run(["eval", out, "--long-range", "--ngram-order", "3"])
        #expect(longRange.status == 0, "\(longRange.stderr)")
        #expect(longRange.stdout.hasPrefix("long-range delimiters on \(testMember) (test file, \(Self.testText.count) units)"))

        // Resuming reloads the same corpus from the same files.
        let resumed = try CLI.run(["train", "\(zip):wikitext/wiki.train.raw", "--valid-file", valid, "--test-file", testMember,
                                   "--hidden", "16", "--embed", "8", "--layers", "1", "--bptt", "10", "--batch", "4",
                                   "--max-steps", "9", "--eval-every", "3", "--checkpoint-every", "3", "--threads", "1",
                                   "--out", out, "--quiet", "--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
    }

    @Test func getUnpacksAZipFromAMirror() throws {
        let root = try Self.corpusFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let mirror = root.appendingPathComponent("mirror"), output = root.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: mirror, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: root.appendingPathComponent("data.zip"), to: mirror.appendingPathComponent("wt.zip"))
        let (size, sha256) = try CorpusFetcher.digest(of: mirror.appendingPathComponent("wt.zip"))
        let catalog = """
        {"format": "charrnn-corpus-catalog", "version": 1, "corpora": [{"name": "tiny-wiki",
         "description": "test archive", "url": "http://invalid.example/wt.zip", "file": "wt.zip",
         "mirror_file": "wt.zip", "licence": "test", "sha256": "\(sha256)", "size": \(size), "archive": "zip"}]}
        """
        let catalogURL = root.appendingPathComponent("catalog.json")
        try Data(catalog.utf8).write(to: catalogURL)
        let arguments = ["corpus", "get", "tiny-wiki", "--catalog", catalogURL.path, "--mirror", mirror.path,
                         "--output", output.path]

        let kept = try CLI.run(arguments)
        #expect(kept.status == 0, "\(kept.stderr)")
        #expect(kept.stdout.contains("charrnn reads it directly"))
        #expect(!FileManager.default.fileExists(atPath: output.appendingPathComponent("wikitext").path))

        let unpacked = try CLI.run(arguments + ["--unpack"])
        #expect(unpacked.status == 0, "\(unpacked.stderr)")
        let train = output.appendingPathComponent("wikitext/wiki.train.raw")
        #expect(try Data(contentsOf: train) == Data(Self.trainText.utf8))
        #expect(try Data(contentsOf: output.appendingPathComponent("wikitext/wiki.test.raw")) == Data(Self.testText.utf8))
        #expect(unpacked.stdout.contains("\(train.path): unpacked, \(CorpusInspect.grouped(Self.trainText.utf8.count)) bytes"))
        // Intact members are kept; no temporary file is left behind.
        let again = try CLI.run(arguments + ["--unpack"])
        #expect(again.stdout.contains("\(train.path): already unpacked"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: output.appendingPathComponent("wikitext").path).sorted()
                == ["wiki.test.raw", "wiki.train.raw"])

        let badCatalog = try CLI.run(["corpus", "get", "x", "--catalog", root.appendingPathComponent("valid.txt").path])
        #expect(badCatalog.status == 1)
        #expect(badCatalog.stderr.contains("not a charrnn corpus catalog"))
    }

    @Test func configurationsWithoutSplitFilesStillDecode() throws {
        let old = #"{"paths":["corpus.txt"],"units":10,"trainUnits":8,"validationUnits":1,"testUnits":1,"fingerprint":"ab"}"#
        let description = try JSONDecoder().decode(CorpusDescription.self, from: Data(old.utf8))
        #expect(description.paths == ["corpus.txt"] && description.validationFiles == nil && description.testFiles == nil)
        let encoded = String(decoding: try JSONEncoder().encode(description), as: UTF8.self)
        #expect(!encoded.contains("validationFiles") && !encoded.contains("testFiles"))
    }
}
