import Foundation
import Testing
import TestSupport
@testable import TextCorpus

/// Facts from ../shared/corpora/SOURCES.md, checked through the whole pipeline. Skips when absent.
@Suite struct SharedCorporaTests {
    @Test func tinyShakespearePlainAndGzipAgree() throws {
        guard let plain = SharedCorpora.url("tinyshakespeare.txt"),
              let gz = SharedCorpora.url("tinyshakespeare.txt.gz") else { return }
        let a = try TokenCorpus.load(paths: [plain.path], validationFraction: 0, testFraction: 0)
        let b = try TokenCorpus.load(paths: [gz.path], validationFraction: 0, testFraction: 0)
        #expect(a.ids.count == 1_115_394)
        #expect(a.vocabulary.count == 66)          // 65 distinct characters + <unk>
        #expect(a.ids == b.ids)
        #expect(b.statistics.reading.gzipFiles == 1)
        let text = try String(contentsOf: plain, encoding: .utf8)
        #expect(a.vocabulary.decode(a.ids) == text)
        // Default splits: 90 / 5 / 5.
        let split = try TokenCorpus.load(paths: [gz.path])
        #expect(split.splits.validation.count == 55_769 && split.splits.test.count == 55_769)
    }

    @Test func sqliteSourceAsGraphemesAndWords() throws {
        guard let url = SharedCorpora.url("code/sqlite_src.txt.gz") else { return }
        let chars = try TokenCorpus.load(paths: [url.path], validationFraction: 0, testFraction: 0)
        #expect(chars.ids.count == 5_729_613)
        #expect(chars.statistics.distinctUnits == 97)
        #expect(chars.statistics.reading.bytes == 5_729_613)
    }

    @Test func multiscriptCounts() throws {
        guard let it = SharedCorpora.url("multiscript/it_divina_commedia.txt.gz"),
              let zh = SharedCorpora.url("multiscript/zh_classics.txt.gz"),
              let he = SharedCorpora.url("multiscript/he_genesis_wlc.txt.gz") else { return }
        let codepoints = TokenizerOptions(unit: .codepoint, normalization: .none)
        func count(_ url: URL, _ options: TokenizerOptions) throws -> TokenCorpus {
            try TokenCorpus.load(paths: [url.path], tokenizer: options, validationFraction: 0, testFraction: 0)
        }
        #expect(try count(it, codepoints).ids.count == 561_097)
        #expect(try count(it, TokenizerOptions(unit: .codepoint)).ids.count == 561_097)  // already NFC
        let zhChars = try count(zh, codepoints)
        #expect(zhChars.ids.count == 295_983)
        #expect(zhChars.statistics.distinctUnits == 6_607)
        #expect(try count(zh, TokenizerOptions()).ids.count == 295_983)                  // no combining marks
        let heScalars = try count(he, codepoints)
        #expect(heScalars.ids.count == 185_262)
        let heGraphemes = try count(he, TokenizerOptions())
        // Every combining mark joins its letter: graphemes = scalars − marks (84,631 Mn).
        #expect(heGraphemes.ids.count == 185_262 - 84_631)
        // Chinese words by dictionary: fewer units than characters, same text back.
        let zhWords = try count(zh, TokenizerOptions(unit: .word))
        #expect(zhWords.ids.count < 295_983)
        #expect(zhWords.vocabulary.decode(zhWords.ids) == zhChars.vocabulary.decode(zhChars.ids))
    }

    @Test func wikitextDirectory() throws {
        guard let dir = SharedCorpora.url("wikitext-2") else { return }
        let corpus = try TokenCorpus.load(paths: [dir.path], tokenizer: TokenizerOptions(unit: .codepoint, normalization: .none),
                                          validationFraction: 0, testFraction: 0)
        #expect(corpus.statistics.reading.files == 2)
        #expect(corpus.ids.count == 1_120_192 + 1_255_018)
    }
}
