import Foundation
import Testing
import TestSupport
@testable import TextCorpus

/// Corpora with the splits given as files (`validationFiles`, `testFiles`): the ids are train, validation,
/// test; the splits hold exactly the files' units; the vocabulary comes from the training split only.
@Suite struct SplitFilesTests {
    /// Checks that `range` of the corpus holds exactly `text`, unit by unit (through the corpus's vocabulary,
    /// so units outside the training split are `<unk>`).
    static func holds(_ corpus: TokenCorpus, _ range: Range<Int>, _ text: String) -> Bool {
        Array(corpus.ids[range]) == text.map { corpus.vocabulary.id(of: String($0)) }
    }

    static func files(_ contents: [String: String]) throws -> URL {
        let root = try SharedCorpora.temporaryDirectory("charrnn-splits")
        for (name, text) in contents {
            let url = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Fixtures.write(text, to: url)
        }
        return root
    }

    @Test func encodingWithAVocabularyHonoursSplitFiles() throws {
        let train = "the training text\n", valid = "validation: vvv\n", test = "test\n"
        let root = try Self.files(["train.txt": train, "valid.txt": valid, "test.txt": test])
        defer { try? FileManager.default.removeItem(at: root) }
        let path = { root.appendingPathComponent($0).path }
        let vocabulary = try TokenCorpus.load(paths: [path("train.txt")], validationFraction: 0, testFraction: 0).vocabulary
        // Validation as a file, test cut from the positional text by its fraction (the rotated layout).
        let corpus = try TokenCorpus.encode(paths: [path("train.txt")], vocabulary: vocabulary, testFraction: 0.25,
                                            validationFiles: [path("valid.txt")])
        let testCount = corpus.splits.test.count
        #expect(testCount > 0)
        #expect(corpus.splits.train == 0..<(train.count - testCount))
        #expect(corpus.splits.validation.count == valid.count)
        #expect(Self.holds(corpus, corpus.splits.train, String(train.prefix(train.count - testCount))))
        #expect(Self.holds(corpus, corpus.splits.validation, valid))
        #expect(Self.holds(corpus, corpus.splits.test, String(train.suffix(testCount))))
        #expect(corpus.validationFiles == [path("valid.txt")] && corpus.testFiles.isEmpty)
        // Outside the training text's vocabulary: v×4, "l", "d", "o", ":".
        #expect(corpus.statistics.unknownUnits == 8)
        let both = try TokenCorpus.encode(paths: [path("train.txt")], vocabulary: vocabulary,
                                          validationFiles: [path("valid.txt")], testFiles: [path("test.txt")])
        #expect(Self.holds(both, both.splits.test, test))
    }

    @Test func splitFilesAreTheSplits() throws {
        let train = "the training text, plain letters only\n", valid = "validation: vvv\n", test = "test with a new letter: Ω\n"
        let root = try Self.files(["train.txt": train, "valid.txt": valid, "test.txt": test])
        defer { try? FileManager.default.removeItem(at: root) }
        let path = { root.appendingPathComponent($0).path }
        let corpus = try TokenCorpus.load(paths: [path("train.txt")], validationFiles: [path("valid.txt")],
                                          testFiles: [path("test.txt")])
        #expect(corpus.splits.train == 0..<train.count)
        #expect(corpus.splits.validation == train.count..<(train.count + valid.count))
        #expect(corpus.splits.test == (train.count + valid.count)..<(train.count + valid.count + test.count))
        #expect(Self.holds(corpus, corpus.splits.train, train))
        #expect(Self.holds(corpus, corpus.splits.validation, valid))
        #expect(Self.holds(corpus, corpus.splits.test, test))
        #expect(corpus.validationFiles == [path("valid.txt")] && corpus.testFiles == [path("test.txt")])
        // The vocabulary is the training split's: "Ω" and "v" (only outside it) are <unk>.
        #expect(corpus.vocabulary.id(of: "Ω") == Vocabulary.unknownID)
        #expect(corpus.vocabulary.id(of: "v") == Vocabulary.unknownID)
        #expect(corpus.vocabulary.id(of: "t") != Vocabulary.unknownID)
        // Unknowns only outside the training split: v×4, d, ":" in validation; w×2, ":", "Ω" in test.
        #expect(corpus.statistics.unknownUnits == 10)
        #expect(!corpus.train.contains(Vocabulary.unknownID))
        #expect(corpus.statistics.reading.files == 3)
        // The default fractions were not applied.
        let cut = try TokenCorpus.load(paths: [path("train.txt")])
        #expect(cut.splits.validation.count == Int(Double(train.count) * 0.05))
    }

    @Test func oneSplitFileAndOneFraction() throws {
        let train = String(repeating: "abcdefghij", count: 8) + "ABCDEFGHIJ" + "KLMNOPQRST", valid = "valid\n", test = "test!\n"
        let root = try Self.files(["train.txt": train, "valid.txt": valid, "test.txt": test])
        defer { try? FileManager.default.removeItem(at: root) }
        let path = { root.appendingPathComponent($0).path }

        // Validation from a file, test cut from the end of the positional text (10% of 100 units).
        let withValid = try TokenCorpus.load(paths: [path("train.txt")], validationFraction: 0.3, testFraction: 0.1,
                                             validationFiles: [path("valid.txt")])
        #expect(withValid.splits.train == 0..<90)
        #expect(Self.holds(withValid, withValid.splits.train, String(train.prefix(90))))
        #expect(Self.holds(withValid, withValid.splits.validation, valid))
        #expect(Self.holds(withValid, withValid.splits.test, String(train.suffix(10))))
        #expect(withValid.testFiles.isEmpty)

        // Test from a file, validation cut after the training part (20% of 100 units).
        let withTest = try TokenCorpus.load(paths: [path("train.txt")], validationFraction: 0.2, testFraction: 0.5,
                                            testFiles: [path("test.txt")])
        #expect(withTest.splits.train == 0..<80)
        #expect(Self.holds(withTest, withTest.splits.validation, String(train.suffix(20))))
        #expect(withTest.splits.test == 100..<106)
        #expect(withTest.ids.count == 106)
    }

    @Test func directoryAndZipMemberAsSplits() throws {
        let root = try Self.files(["train/a.txt": "first training file\n", "train/b.txt": "second training file\n",
                                   "held/valid.txt": "held out validation\n"])
        defer { try? FileManager.default.removeItem(at: root) }
        let archive = root.appendingPathComponent("test.zip")
        try Data(ZipFixture.archive([ZipFixture.Entry(name: "wiki.test.raw", data: Array("tested text\n".utf8))]))
            .write(to: archive)
        let corpus = try TokenCorpus.load(paths: [root.appendingPathComponent("train").path],
                                          validationFiles: [root.appendingPathComponent("held").path],
                                          testFiles: ["\(archive.path):wiki.test.raw"])
        #expect(Self.holds(corpus, corpus.splits.train, "first training file\nsecond training file\n"))
        #expect(Self.holds(corpus, corpus.splits.validation, "held out validation\n"))
        #expect(corpus.splits.test.count == "tested text\n".count)
        #expect(corpus.statistics.reading.zipMembers == 1)
    }

    @Test func emptyOrMissingSplitFileFails() throws {
        let root = try Self.files(["train.txt": "training\n", "empty.txt": ""])
        defer { try? FileManager.default.removeItem(at: root) }
        let path = { root.appendingPathComponent($0).path }
        #expect(throws: CorpusError.emptyCorpus(sources: path("empty.txt"))) {
            _ = try TokenCorpus.load(paths: [path("train.txt")], testFiles: [path("empty.txt")])
        }
        #expect(throws: CorpusError.missingPath(path("nope.txt"))) {
            _ = try TokenCorpus.load(paths: [path("train.txt")], validationFiles: [path("nope.txt")])
        }
    }
}
