import Foundation
import Testing
import TestSupport
@testable import TextCorpus

@Suite struct VocabularyTests {
    @Test func idOrderIsDeterministicByUTF8Bytes() {
        let counts = ["b": 5, "a": 1, "é": 3, "\n": 2, "北": 9]
        let v = Vocabulary(counts: counts, tokenizer: TokenizerOptions())
        #expect(v.units == ["<unk>", "\n", "a", "b", "é", "北"])
        let shuffled = Dictionary(uniqueKeysWithValues: counts.reversed().map { ($0.key, $0.value) })
        #expect(Vocabulary(counts: shuffled, tokenizer: TokenizerOptions()) == v)
        #expect(v.id(of: "b") == 3)
        #expect(v.id(of: "zzz") == Vocabulary.unknownID)
        #expect(v.unit(of: 5) == "北")
    }

    @Test func maxVocabAndMinCount() {
        let counts = ["a": 10, "b": 10, "c": 3, "d": 1, "e": 7]
        let top = Vocabulary(counts: counts, tokenizer: TokenizerOptions(), maxVocab: 4)
        #expect(top.units == ["<unk>", "a", "b", "e"])
        let frequent = Vocabulary(counts: counts, tokenizer: TokenizerOptions(), minCount: 3)
        #expect(frequent.units == ["<unk>", "a", "b", "c", "e"])
    }

    @Test func encodeCountsUnknownsAndDecodeRoundTrips() throws {
        let v = Vocabulary(units: ["c", "i", "t", "à", " ", "\n"], tokenizer: TokenizerOptions())
        let (ids, unknown) = try v.encode("citta\u{300} ciao\n")   // combining accent → à after NFC
        #expect(unknown == 2)                                      // "a" and "o" are not in the vocabulary
        #expect(ids.count == 11)
        #expect(ids[4] == v.id(of: "à"))
        #expect(v.decode(ids) == "città ci\u{FFFD}\u{FFFD}\n")
        #expect(v.decode(ids, unknown: "?") == "città ci??\n")
    }

    @Test func byteVocabularyDecodesUTF8() throws {
        let text = "più 北"
        let corpus = try loadString(text, options: TokenizerOptions(unit: .byte))
        #expect(corpus.ids.count == text.utf8.count)
        #expect(corpus.vocabulary.decode(corpus.ids) == text)
    }

    @Test func jsonRoundTrip() throws {
        let dir = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let v = Vocabulary(counts: ["\"": 1, "\\": 1, "👨‍👩‍👧": 2, "x": 1], tokenizer: TokenizerOptions(unit: .word, caseFold: true))
        let url = dir.appendingPathComponent("vocab.json")
        try v.save(to: url)
        let loaded = try Vocabulary.load(from: url)
        #expect(loaded == v)
        #expect(loaded.tokenizer.unit == .word && loaded.tokenizer.caseFold)
        let json = String(decoding: try Data(contentsOf: url), as: UTF8.self)
        #expect(json.contains("\"case_fold\" : true"))
        #expect(json.contains("\"format\" : \"charrnn-vocabulary\""))
    }

    @Test(arguments: [
        ("{\"format\": \"charrnn-vocabulary\", \"version\": 1,", "not valid JSON"),
        ("[1, 2, 3]", "found an array"),
        ("{\"format\": \"charrnn-vocabulary\", \"version\": 1, \"tokenizer\": {}, \"unknown\": \"<unk>\"}", "missing key \"units\""),
        ("{\"format\": \"other\", \"version\": 1, \"tokenizer\": {}, \"unknown\": \"<unk>\", \"units\": [\"<unk>\"]}", "format is \"other\""),
        ("{\"format\": \"charrnn-vocabulary\", \"version\": 1, \"tokenizer\": {}, \"unknown\": \"<unk>\", \"units\": [\"<unk>\", \"a\", \"a\"]}", "units[2] \"a\" is a duplicate"),
        ("{\"format\": \"charrnn-vocabulary\", \"version\": 1, \"tokenizer\": {}, \"unknown\": \"<unk>\", \"units\": [\"a\"]}", "units[0] must be"),
        ("{\"format\": \"charrnn-vocabulary\", \"version\": 1, \"tokenizer\": {\"unit\": \"syllable\"}, \"unknown\": \"<unk>\", \"units\": [\"<unk>\"]}", "tokenizer.unit"),
        ("{\"format\": \"charrnn-vocabulary\", \"version\": 1, \"tokenizer\": {}, \"unknown\": \"<unk>\", \"units\": [\"<unk>\", 7]}", "units[1]"),
    ])
    func malformedVocabularyJSON(document: String, expected: String) throws {
        let dir = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("vocab.json")
        try Fixtures.write(document, to: url)
        do {
            _ = try Vocabulary.load(from: url)
            Issue.record("no error for \(document)")
        } catch let error as CorpusError {
            guard case .malformedVocabulary(let path, let reason) = error else { Issue.record("\(error)"); return }
            #expect(path == url.path)
            #expect(reason.contains(expected), "\(reason)")
            #expect(!error.description.contains("\n"))
            #expect(error.description.hasPrefix("\(url.path): malformed vocabulary JSON: "))
        }
    }

    @Test func missingVocabularyFile() {
        #expect(throws: CorpusError.missingPath("/nonexistent/vocab.json")) {
            try Vocabulary.load(from: URL(fileURLWithPath: "/nonexistent/vocab.json"))
        }
    }
}

/// Loads `text` through a temporary file.
func loadString(_ text: String, options: TokenizerOptions = TokenizerOptions(),
                validationFraction: Double = 0, testFraction: Double = 0) throws -> TokenCorpus {
    let dir = try SharedCorpora.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("text.txt")
    try Fixtures.write(text, to: url)
    return try TokenCorpus.load(paths: [url.path], tokenizer: options, validationFraction: validationFraction,
                                testFraction: testFraction)
}

@Suite struct UnitIdentityTests {
    @Test func withoutNormalizationEquivalentSpellingsStayDistinct() throws {
        // Swift's String == calls these equal; as units they must differ when normalization is off.
        let text = "caff\u{E8} caffe\u{300}"
        let raw = try loadString(text, options: TokenizerOptions(normalization: .none))
        #expect(raw.vocabulary.count == 1 + 6)   // <unk>, space, a, c, f, è (U+00E8), è (e + U+0300)
        #expect(raw.vocabulary.units.filter { $0 == "\u{E8}" }.count == 2)   // both spellings present
        #expect(raw.ids[4] != raw.ids[10])
        let nfc = try loadString(text)
        #expect(nfc.ids[4] == nfc.ids[10])
        #expect(nfc.ids.count == 11)
        #expect(raw.vocabulary.decode(raw.ids).unicodeScalars.elementsEqual(text.unicodeScalars))
    }
}
