import Foundation
import Testing
import TestSupport
@testable import TextCorpus

/// The token cache on `TokenCorpus.encode` (a corpus read with a trained model's vocabulary): a cached
/// encoding equals a fresh one, and it misses when the vocabulary, the fractions or the bytes change.
@Suite struct TokenCacheEncodeTests {
    typealias Scratch = TokenCacheTests.Scratch

    /// A vocabulary of more than 256 units whose last units the corpus never uses, so the encoded ids
    /// fit in one byte while the vocabulary needs two, and a few corpus units outside it (`<unk>`).
    static func vocabulary() -> Vocabulary {
        let letters = "abcdefghijklmnopqrstuvwxyz ,.\n".map(String.init)
        let unused = (0..<300).map { String(Character(Unicode.Scalar(0x4E00 + $0)!)) }
        return Vocabulary(units: letters + unused, tokenizer: TokenizerOptions())
    }

    static let text = String(repeating: "the quick brown fox, jumps over the lazy dog. ÄÖ 1234\n", count: 40)

    @Test func aCachedEncodingEqualsAFreshOneAtTheNarrowerWidth() throws {
        let scratch = try Scratch(Self.text)
        defer { scratch.remove() }
        let vocabulary = Self.vocabulary(), paths = [scratch.corpus.path]
        let fresh = try TokenCorpus.encode(paths: paths, vocabulary: vocabulary, validationFraction: 0.1, testFraction: 0.1)
        #expect(fresh.ids.bytesPerID == 1 && vocabulary.count > 256)
        #expect(fresh.statistics.unknownUnits > 0)
        let cold = try TokenCorpus.encode(paths: paths, vocabulary: vocabulary, validationFraction: 0.1, testFraction: 0.1,
                                          cache: scratch.cache)
        #expect(!cold.ids.isMemoryMapped)
        _ = try scratch.cacheFile()
        let warm = try TokenCorpus.encode(paths: paths, vocabulary: vocabulary, validationFraction: 0.1, testFraction: 0.1,
                                          cache: scratch.cache)
        #expect(warm.ids.isMemoryMapped)
        TokenCacheTests.expectSame(fresh, cold)
        TokenCacheTests.expectSame(fresh, warm)
        #expect(TokenCacheTests.WarningLog.shared.mentioning(scratch.root.path).isEmpty)
    }

    @Test func anotherVocabularyOrFractionOrLoadMisses() throws {
        let scratch = try Scratch(Self.text)
        defer { scratch.remove() }
        let paths = [scratch.corpus.path], vocabulary = Self.vocabulary()
        _ = try TokenCorpus.encode(paths: paths, vocabulary: vocabulary, validationFraction: 0.1, cache: scratch.cache)
        // One unit fewer shifts every later id; one unit more gives an id to what was <unk>.
        let variants: [(Vocabulary, Double)] = [
            (Vocabulary(units: vocabulary.units.dropFirst().filter { $0 != "b" }, tokenizer: TokenizerOptions()), 0.1),
            (Vocabulary(units: vocabulary.units.dropFirst() + ["Ä"], tokenizer: TokenizerOptions()), 0.1),
            (Vocabulary(units: vocabulary.units.dropFirst(), tokenizer: TokenizerOptions(unit: .codepoint)), 0.1),
            (vocabulary, 0.2),
        ]
        for (k, (other, fraction)) in variants.enumerated() {
            let first = try TokenCorpus.encode(paths: paths, vocabulary: other, validationFraction: fraction, cache: scratch.cache)
            #expect(!first.ids.isMemoryMapped, "variant \(k) hit another variant's cache")
            let fresh = try TokenCorpus.encode(paths: paths, vocabulary: other, validationFraction: fraction)
            TokenCacheTests.expectSame(fresh, first)
        }
        // A load of the same file is not an encoding: its own key, its own file.
        let loaded = try TokenCorpus.load(paths: paths, validationFraction: 0.1, cache: scratch.cache)
        #expect(!loaded.ids.isMemoryMapped)
        #expect(scratch.entries().filter { $0.hasSuffix(".tokens") }.count == variants.count + 2)
    }

    @Test func changedBytesMiss() throws {
        let scratch = try Scratch(Self.text)
        defer { scratch.remove() }
        let paths = [scratch.corpus.path], vocabulary = Self.vocabulary()
        _ = try TokenCorpus.encode(paths: paths, vocabulary: vocabulary, cache: scratch.cache)
        try Fixtures.write(Self.text.replacingOccurrences(of: "lazy", with: "LAZY"), to: scratch.corpus)
        let changed = try TokenCorpus.encode(paths: paths, vocabulary: vocabulary, cache: scratch.cache)
        TokenCacheTests.expectSame(try TokenCorpus.encode(paths: paths, vocabulary: vocabulary), changed)
        #expect(!changed.ids.isMemoryMapped)
    }
}
