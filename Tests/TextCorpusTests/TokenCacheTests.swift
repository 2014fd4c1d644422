import Foundation
import Testing
import TestSupport
@testable import TextCorpus

/// Issue 13, item 6: the token cache maps a corpus tokenized once; it must give what a fresh load gives,
/// miss when anything that shapes the ids changes, and never trust a damaged file.
@Suite struct TokenCacheTests {
    /// Warnings of every test in this process, in order (the handler is installed once).
    final class WarningLog: @unchecked Sendable {
        private let lock = NSLock()
        private var messages: [String] = []
        static let shared: WarningLog = {
            let log = WarningLog()
            CorpusWarnings.setHandler { message in log.append(message) }
            return log
        }()
        func append(_ message: String) { lock.lock(); messages.append(message); lock.unlock() }
        /// The warnings that mention `text` (a test's own directory).
        func mentioning(_ text: String) -> [String] {
            lock.lock(); defer { lock.unlock() }
            return messages.filter { $0.contains(text) }
        }
    }

    /// A scratch directory with a corpus file and an empty cache directory.
    struct Scratch {
        let root: URL
        var corpus: URL { root.appendingPathComponent("corpus.txt") }
        var cacheDirectory: URL { root.appendingPathComponent("cache") }
        var cache: TokenCache { TokenCache(directory: cacheDirectory) }

        init(_ text: String) throws {
            root = try SharedCorpora.temporaryDirectory("token-cache")
            try Fixtures.write(text, to: corpus)
            _ = WarningLog.shared
        }

        func remove() { try? FileManager.default.removeItem(at: root) }

        /// The cache directory's entries (temporary files included).
        func entries() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: cacheDirectory.path)) ?? []).sorted()
        }

        /// The one cache file (fails the test when there is not exactly one).
        func cacheFile() throws -> URL {
            let files = entries().filter { $0.hasSuffix(".tokens") }
            try #require(files.count == 1, "cache files: \(entries())")
            return cacheDirectory.appendingPathComponent(files[0])
        }
    }

    static let text = String(repeating: sampleText + "\nThe quick brown fox, 1234.\n", count: 3)

    /// Everything a load produces must be equal (`Statistics ==` covers reading counts and frequencies).
    static func expectSame(_ a: TokenCorpus, _ b: TokenCorpus, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.ids == b.ids, sourceLocation: sourceLocation)
        #expect(a.ids.bytesPerID == b.ids.bytesPerID, sourceLocation: sourceLocation)
        #expect(a.vocabulary == b.vocabulary, sourceLocation: sourceLocation)
        #expect(a.vocabulary.units == b.vocabulary.units, sourceLocation: sourceLocation)
        #expect(a.vocabulary.tokenizer == b.vocabulary.tokenizer, sourceLocation: sourceLocation)
        #expect(a.splits == b.splits, sourceLocation: sourceLocation)
        #expect(a.train == b.train && a.validation == b.validation && a.test == b.test, sourceLocation: sourceLocation)
        #expect(a.statistics == b.statistics, sourceLocation: sourceLocation)
        #expect(a.validationFiles == b.validationFiles && a.testFiles == b.testFiles, sourceLocation: sourceLocation)
    }

    static let tokenizers: [TokenizerOptions] = [
        TokenizerOptions(unit: .grapheme), TokenizerOptions(unit: .codepoint, normalization: .none),
        TokenizerOptions(unit: .byte), TokenizerOptions(unit: .word),
        TokenizerOptions(unit: .grapheme, normalization: .nfkc, caseFold: true),
    ]

    @Test(arguments: tokenizers)
    func aCachedLoadEqualsAFreshLoad(tokenizer: TokenizerOptions) throws {
        let scratch = try Scratch(Self.text)
        defer { scratch.remove() }
        let paths = [scratch.corpus.path]
        let fresh = try TokenCorpus.load(paths: paths, tokenizer: tokenizer, maxVocab: 200)
        let cold = try TokenCorpus.load(paths: paths, tokenizer: tokenizer, maxVocab: 200, cache: scratch.cache)
        #expect(!cold.ids.isMemoryMapped)
        _ = try scratch.cacheFile()
        let warm = try TokenCorpus.load(paths: paths, tokenizer: tokenizer, maxVocab: 200, cache: scratch.cache)
        #expect(warm.ids.isMemoryMapped)
        #expect(warm.train.isMemoryMapped && warm.validation.isMemoryMapped)
        Self.expectSame(fresh, cold)
        Self.expectSame(fresh, warm)
        #expect(scratch.entries().count == 1)
        #expect(WarningLog.shared.mentioning(scratch.root.path).isEmpty)
    }

    /// 264 distinct graphemes: two-byte ids, mapped at the right width; split files keep their order.
    @Test func twoByteIDsAndSplitFiles() throws {
        let wide = String((0..<300).map { Character(Unicode.Scalar(0x4E00 + $0)!) })
        let scratch = try Scratch(Self.text + wide)
        defer { scratch.remove() }
        let valid = scratch.root.appendingPathComponent("valid.txt"), test = scratch.root.appendingPathComponent("test.txt")
        try Fixtures.write("validation text ½ ﬁ", to: valid)
        try Fixtures.write("test text ありがとう", to: test)
        func load(_ cache: TokenCache?) throws -> TokenCorpus {
            try TokenCorpus.load(paths: [scratch.corpus.path], validationFiles: [valid.path], testFiles: [test.path], cache: cache)
        }
        let fresh = try load(nil)
        #expect(fresh.ids.bytesPerID == 2)
        _ = try load(scratch.cache)
        let warm = try load(scratch.cache)
        #expect(warm.ids.isMemoryMapped)
        Self.expectSame(fresh, warm)
    }

    @Test func changedBytesMiss() throws {
        let scratch = try Scratch(Self.text)
        defer { scratch.remove() }
        let paths = [scratch.corpus.path]
        _ = try TokenCorpus.load(paths: paths, cache: scratch.cache)
        // Same size, one character different.
        var changed = Array(Self.text.utf8)
        changed[5] = changed[5] == UInt8(ascii: "x") ? UInt8(ascii: "y") : UInt8(ascii: "x")
        try Fixtures.write(changed, to: scratch.corpus)
        let reloaded = try TokenCorpus.load(paths: paths, cache: scratch.cache)
        #expect(!reloaded.ids.isMemoryMapped)
        Self.expectSame(reloaded, try TokenCorpus.load(paths: paths))
        // The new file replaced the old one, and is then used.
        _ = try scratch.cacheFile()
        let warm = try TokenCorpus.load(paths: paths, cache: scratch.cache)
        #expect(warm.ids.isMemoryMapped)
        Self.expectSame(reloaded, warm)
    }

    /// New bytes with the old modification time put back: the status change time still gives it away.
    @Test func changedBytesWithTheOldModificationTimeMiss() throws {
        let scratch = try Scratch(Self.text)
        defer { scratch.remove() }
        let old = Date(timeIntervalSince1970: 1_600_000_000)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: scratch.corpus.path)
        _ = try TokenCorpus.load(paths: [scratch.corpus.path], cache: scratch.cache)
        try Fixtures.write(Self.text.uppercased(), to: scratch.corpus)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: scratch.corpus.path)
        let reloaded = try TokenCorpus.load(paths: [scratch.corpus.path], cache: scratch.cache)
        #expect(!reloaded.ids.isMemoryMapped)
        Self.expectSame(reloaded, try TokenCorpus.load(paths: [scratch.corpus.path]))
    }

    /// Touched but not changed: the content hash keeps the cache.
    @Test func touchedButUnchangedHits() throws {
        let scratch = try Scratch(Self.text)
        defer { scratch.remove() }
        _ = try TokenCorpus.load(paths: [scratch.corpus.path], cache: scratch.cache)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_500_000_000)],
                                              ofItemAtPath: scratch.corpus.path)
        let warm = try TokenCorpus.load(paths: [scratch.corpus.path], cache: scratch.cache)
        #expect(warm.ids.isMemoryMapped)
        Self.expectSame(warm, try TokenCorpus.load(paths: [scratch.corpus.path]))
    }

    /// Every setting that changes the ids gives another key and a fresh load; the defaults' file stays.
    @Test func everySettingMisses() throws {
        let scratch = try Scratch(Self.text)
        defer { scratch.remove() }
        let paths = [scratch.corpus.path]
        struct Variant { var tokenizer = TokenizerOptions(); var validation = 0.05, test = 0.05; var maxVocab: Int? = nil
                         var minCount = 1; var replaceInvalid = false }
        var variants = [Variant()]
        for unit in [TokenUnit.codepoint, .byte, .word] { var v = Variant(); v.tokenizer.unit = unit; variants.append(v) }
        for form in [NormalizationForm.nfkc, .none] { var v = Variant(); v.tokenizer.normalization = form; variants.append(v) }
        var v = Variant(); v.tokenizer.caseFold = true; variants.append(v)
        v = Variant(); v.validation = 0.1; variants.append(v)
        v = Variant(); v.test = 0.1; variants.append(v)
        v = Variant(); v.maxVocab = 50; variants.append(v)
        v = Variant(); v.minCount = 2; variants.append(v)
        v = Variant(); v.replaceInvalid = true; variants.append(v)
        var names = Set<String>()
        for (k, variant) in variants.enumerated() {
            func load(_ cache: TokenCache?) throws -> TokenCorpus {
                try TokenCorpus.load(paths: paths, tokenizer: variant.tokenizer, validationFraction: variant.validation,
                                     testFraction: variant.test, maxVocab: variant.maxVocab, minCount: variant.minCount,
                                     reader: CorpusReader.Options(replaceInvalid: variant.replaceInvalid), cache: cache)
            }
            let first = try load(scratch.cache)
            #expect(!first.ids.isMemoryMapped, "variant \(k) hit another variant's cache")
            Self.expectSame(first, try load(nil))
            #expect(scratch.entries().filter { $0.hasSuffix(".tokens") }.count == k + 1)
            let key = TokenCacheKey(train: [scratch.corpus.resolvingSymlinksInPath().path], validation: [], test: [],
                                    tokenizer: variant.tokenizer, validationFraction: variant.validation,
                                    testFraction: variant.test, maxVocab: variant.maxVocab, minCount: variant.minCount,
                                    replaceInvalid: variant.replaceInvalid)
            names.insert(key.fileName)
        }
        #expect(names.count == variants.count)
        // Another input path is another key too.
        let copy = scratch.root.appendingPathComponent("copy.txt")
        try Fixtures.write(Self.text, to: copy)
        #expect(!(try TokenCorpus.load(paths: [copy.path], cache: scratch.cache)).ids.isMemoryMapped)
    }

    /// Damage anywhere is found, reported in one line, and the file rebuilt (the next load maps it again).
    @Test(arguments: ["truncate-0", "truncate-30", "truncate-64", "truncate-ids", "flip-header", "flip-metadata",
                      "flip-ids", "flip-last", "grow", "garbage", "foreign-version"])
    func damageIsDetectedAndRebuilt(damage: String) throws {
        let scratch = try Scratch(Self.text)
        defer { scratch.remove() }
        let paths = [scratch.corpus.path]
        let fresh = try TokenCorpus.load(paths: paths, cache: scratch.cache)
        let file = try scratch.cacheFile()
        var bytes = [UInt8](try Data(contentsOf: file))
        let idsOffset = Int(bytes[32]) | Int(bytes[33]) << 8 | Int(bytes[34]) << 16
        #expect(idsOffset == 4096 && bytes.count > idsOffset)
        switch damage {
        case "truncate-0": bytes = []
        case "truncate-30": bytes.removeSubrange(30...)
        case "truncate-64": bytes.removeSubrange(64...)
        case "truncate-ids": bytes.removeLast()
        case "flip-header": bytes[17] ^= 0x04
        case "flip-metadata": bytes[100] ^= 0x01
        case "flip-ids": bytes[idsOffset + 7] ^= 0x01
        case "flip-last": bytes[bytes.count - 1] ^= 0x80
        case "grow": bytes += [0, 0, 0, 0]
        case "garbage": bytes = Array("not a cache file at all, just text".utf8)
        case "foreign-version":
            // A later format: version 2, with the header checksum made right again.
            bytes[8] = 2
            let crc = bytes.withUnsafeBytes { TokenCacheFile.crc(UnsafeRawBufferPointer(rebasing: $0[0..<60])) }
            withUnsafeBytes(of: crc.littleEndian) { bytes.replaceSubrange(60..<64, with: $0) }
        default: Issue.record("unknown damage \(damage)")
        }
        try Data(bytes).write(to: file)
        let reloaded = try TokenCorpus.load(paths: paths, cache: scratch.cache)
        #expect(!reloaded.ids.isMemoryMapped, "damaged cache was used")
        Self.expectSame(fresh, reloaded)
        let warnings = WarningLog.shared.mentioning(scratch.root.path)
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first.map { $0.hasPrefix("token cache \(file.path): ") && $0.hasSuffix("; rebuilding it") && !$0.contains("\n") } == true,
                "\(warnings)")
        if damage == "foreign-version" { #expect(warnings.first?.contains("format 2") == true) }
        let warm = try TokenCorpus.load(paths: paths, cache: scratch.cache)
        #expect(warm.ids.isMemoryMapped)
        Self.expectSame(fresh, warm)
    }

    /// Two builders at once: both get the corpus, one valid file remains, no temporary file is left.
    @Test func concurrentBuildersLeaveOneValidFile() async throws {
        let scratch = try Scratch(String(repeating: Self.text, count: 40))
        defer { scratch.remove() }
        let paths = [scratch.corpus.path], cache = scratch.cache
        let fresh = try TokenCorpus.load(paths: paths)
        let results = try await withThrowingTaskGroup(of: TokenCorpus.self) { group in
            for _ in 0..<4 { group.addTask { try TokenCorpus.load(paths: paths, cache: cache) } }
            var all: [TokenCorpus] = []
            for try await corpus in group { all.append(corpus) }
            return all
        }
        for corpus in results { Self.expectSame(fresh, corpus) }
        #expect(scratch.entries().count == 1, "\(scratch.entries())")
        let file = try scratch.cacheFile()
        let opened = try #require(try TokenCacheFile.open(path: file.path))
        #expect(opened.ids.count == fresh.ids.count)
        #expect(try TokenCorpus.load(paths: paths, cache: cache).ids.isMemoryMapped)
        #expect(WarningLog.shared.mentioning(scratch.root.path).isEmpty)
    }

    /// Errors for bad input are those of a load without a cache, and nothing is written.
    @Test func badInputErrorsAreUnchanged() throws {
        let scratch = try Scratch(Self.text)
        defer { scratch.remove() }
        let invalid = scratch.root.appendingPathComponent("invalid.txt"), empty = scratch.root.appendingPathComponent("empty.txt")
        try Fixtures.write(Array("fine text then ".utf8) + [0xFF, 0x41], to: invalid)
        try Fixtures.write("", to: empty)
        let missing = scratch.root.appendingPathComponent("missing.txt").path
        for paths in [[missing], [invalid.path], [empty.path], [scratch.corpus.path, invalid.path]] {
            var withCache: CorpusError?, without: CorpusError?
            do { _ = try TokenCorpus.load(paths: paths, cache: scratch.cache) } catch let error as CorpusError { withCache = error }
            do { _ = try TokenCorpus.load(paths: paths) } catch let error as CorpusError { without = error }
            #expect(withCache != nil)
            #expect(withCache == without)
        }
        #expect(scratch.entries().isEmpty, "\(scratch.entries())")
    }

    @Test func smallInputsSkipACacheWithAMinimumSize() throws {
        let scratch = try Scratch(Self.text)
        defer { scratch.remove() }
        let cache = TokenCache(directory: scratch.cacheDirectory, minimumBytes: 1 << 20)
        #expect(!(try TokenCorpus.load(paths: [scratch.corpus.path], cache: cache)).ids.isMemoryMapped)
        #expect(scratch.entries().isEmpty)
    }

    @Test func defaultDirectoryFollowsXDG() {
        #expect(TokenCache.defaultDirectory(environment: ["XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u"])?.path == "/x/cache/charrnn/tokens")
        #expect(TokenCache.defaultDirectory(environment: ["XDG_CACHE_HOME": "relative", "HOME": "/home/u"])?.path == "/home/u/.cache/charrnn/tokens")
        #expect(TokenCache.defaultDirectory(environment: ["HOME": "/home/u"])?.path == "/home/u/.cache/charrnn/tokens")
        #expect(TokenCache.defaultDirectory(environment: [:]) == nil)
    }

    /// The fingerprint a resume compares, from the stored width, equals FNV-1a over the ids' Int32 bytes.
    @Test(arguments: [1, 2, 4])
    func fingerprintFromTheStoredWidth(bytes: Int) throws {
        let bound: Int32 = bytes == 1 ? 200 : bytes == 2 ? 60_000 : 2_000_000
        var rng = SystemRandomNumberGenerator()
        var values = (0..<5_000).map { _ in Int32.random(in: 0..<bound, using: &rng) }
        values.append(bound - 1)
        let ids = TokenIDs(values)
        #expect(ids.bytesPerID == bytes)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for value in values {
            withUnsafeBytes(of: value.littleEndian) { for byte in $0 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 } }
        }
        #expect(ids.fnv1a64OfInt32Bytes() == hash)
        #expect(ids[100..<3000].fnv1a64OfInt32Bytes() == TokenIDs(values[100..<3000]).fnv1a64OfInt32Bytes())
        #expect(ids[100..<3000].fnv1a64OfInt32Bytes() != ids[101..<3000].fnv1a64OfInt32Bytes())
    }
}
