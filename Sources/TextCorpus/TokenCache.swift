import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A directory of tokenized corpora, so that a large corpus is read and tokenized once and later loads (and
/// every process on the machine, e.g. MPI ranks) memory-map the same file instead of holding their own copy.
///
/// **Key.** A file holds one corpus under one set of settings: its name is a hash of `TokenCacheKey.text` —
/// the format version, the ICU version, every tokenizer, vocabulary, split and reading setting that changes
/// the ids, and the absolute paths of the inputs by role — and the file stores that text in full, compared
/// on every load. Changing the corpus's settings therefore misses; changing its bytes replaces the file.
///
/// **Inputs unchanged?** Hashing 100 MB with SHA-256 takes longer than mapping and checking the cache (see
/// BENCHMARKS.md, "Corpora of hundreds of megabytes"), so a load first compares each input's path, device,
/// inode, size, modification and status change times with the stored ones; only when they differ (or the
/// file was written within 2 s of the build, when a later edit could hide in the same timestamp) are the
/// SHA-256 digests of the inputs, stored at build time, recomputed and compared. Equal digests keep the
/// cache (rewritten with the new `stat` fields); different ones rebuild it.
///
/// **Writing.** A new file is written beside its final name as `.NAME.tmp-PID-UUID` and renamed into
/// place, so a reader sees the old file or the new one, never a part; two processes building at once both
/// succeed and the last rename wins. No `fsync`: a file cut short by a crash fails its checks and is rebuilt.
///
/// **Checking.** Every load checks magic, format version, header checksum, sizes against the file's length,
/// the CRC-32 of the metadata and of the ids, and that the metadata fits the ids. A file that fails is
/// reported with one warning line (`token cache FILE: corrupt (…); rebuilding it`) and rebuilt, never used.
///
/// **No copy.** The ids of a hit stay in the mapping (`TokenIDs.isMemoryMapped`); the splits are slices of
/// it. Standard input and FIFOs are never cached (they cannot be identified or read twice).
public struct TokenCache: Sendable {
    /// Where the files are.
    public let directory: URL
    /// Inputs smaller than this many stored bytes in all are loaded without the cache (0: all are cached).
    public let minimumBytes: Int64

    public init(directory: URL, minimumBytes: Int64 = 0) {
        self.directory = directory
        self.minimumBytes = minimumBytes
    }

    /// Below this (8 MiB of input) the default cache is not used: such a corpus tokenizes in well under a
    /// second, and a cache file per small corpus would only fill the directory.
    public static let defaultMinimumBytes: Int64 = 8 << 20

    /// `$XDG_CACHE_HOME/charrnn/tokens` when XDG_CACHE_HOME is an absolute path, else `$HOME/.cache/charrnn/tokens`;
    /// nil when neither is set.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            return URL(fileURLWithPath: xdg).appendingPathComponent("charrnn/tokens")
        }
        if let home = environment["HOME"], !home.isEmpty {
            return URL(fileURLWithPath: home).appendingPathComponent(".cache/charrnn/tokens")
        }
        return nil
    }

    /// Files of this cache whose process of origin is gone are removed before writing (kind of the temporary names).
    static let temporaryKind = "tmp"
    /// An input modified less than this many seconds before its build is checked by content on every load.
    static let racyWindow = 2.0

    /// The path of the file for `key`.
    public func path(for key: TokenCacheKey) -> String {
        directory.appendingPathComponent(key.fileName).path
    }

    /// The corpus for `key` from the cache, or `build()`'s, which is then stored. `files` are the inputs'
    /// regular files (paths as the reader resolved them). Cache problems never fail the load: they are
    /// reported through `CorpusWarnings` and the corpus is built; `build`'s errors are thrown as they are.
    func corpus(key: TokenCacheKey, files: [String], build: () throws -> TokenCorpus) throws -> TokenCorpus {
        guard let before = Self.identities(of: files) else { return try build() }
        if before.reduce(0, { $0 + $1.size }) < minimumBytes { return try build() }
        let path = path(for: key)
        if let hit = lookup(path: path, key: key, current: before) { return hit }
        return try buildAndStore(path: path, key: key, files: files, before: before, build: build)
    }

    /// `stat` identities of `files` in order, one per distinct file; nil when one is not a regular file.
    static func identities(of files: [String]) -> [CorpusFileIdentity]? {
        var result: [CorpusFileIdentity] = []
        for file in files {
            guard let identity = CorpusFileIdentity(path: file) else { return nil }
            if !result.contains(where: { $0.path == identity.path }) { result.append(identity) }
        }
        return result
    }

    /// A usable cached corpus at `path`, or nil (missing, stale, or rejected with a warning).
    private func lookup(path: String, key: TokenCacheKey, current: [CorpusFileIdentity]) -> TokenCorpus? {
        let file: TokenCacheFile
        do {
            guard let opened = try TokenCacheFile.open(path: path) else { return nil }
            file = opened
        } catch {
            CorpusWarnings.warn("token cache \(path): \(error); rebuilding it")
            return nil
        }
        let stored = file.metadata
        guard stored.key == key.text else {
            CorpusWarnings.warn("token cache \(path): built for other inputs or settings; rebuilding it")
            return nil
        }
        guard stored.files.count == current.count, zip(stored.files, current).allSatisfy({ $0.path == $1.path }) else { return nil }
        let unchanged = zip(stored.files, current).allSatisfy { $0.sameStat(as: $1) }
        if unchanged && !stored.racy { return file.corpus() }
        // Changed `stat` fields (touched, copied back, restored) or a racy build: decide by content.
        var verified = current
        for k in verified.indices {
            guard let digest = CorpusFileIdentity.sha256(path: verified[k].path), digest == stored.files[k].sha256 else { return nil }
            verified[k].sha256 = digest
        }
        // Same bytes: keep the ids, and remember the new `stat` fields so the next load is fast again.
        if let now = Self.identities(of: verified.map(\.path)), zip(now, verified).allSatisfy({ $0.sameStat(as: $1) }) {
            let builtAt = Date().timeIntervalSince1970
            var metadata = stored
            metadata.files = verified
            metadata.builtAt = builtAt
            metadata.racy = Self.isRacy(verified, builtAt: builtAt)
            store(metadata: metadata, ids: file.ids, path: path)
        }
        return file.corpus()
    }

    private func buildAndStore(path: String, key: TokenCacheKey, files: [String], before: [CorpusFileIdentity],
                               build: () throws -> TokenCorpus) throws -> TokenCorpus {
        let builtAt = Date().timeIntervalSince1970
        // The inputs are hashed on another thread while they are tokenized (from the page cache, mostly).
        let hashes = ContentHashes(paths: before.map(\.path))
        let corpus: TokenCorpus
        do { corpus = try build() } catch {
            hashes.wait()
            throw error
        }
        let digests = hashes.wait()
        guard let after = Self.identities(of: files), after.count == before.count,
              zip(after, before).allSatisfy({ $0.sameStat(as: $1) }) else {
            CorpusWarnings.warn("token cache: an input changed while it was read; not cached")
            return corpus
        }
        guard digests.allSatisfy({ $0 != nil }) else {
            CorpusWarnings.warn("token cache: an input could not be read to hash it; not cached")
            return corpus
        }
        var identities = before
        for k in identities.indices { identities[k].sha256 = digests[k] ?? "" }
        let metadata = TokenCacheFile.metadata(of: corpus, key: key.text, files: identities, builtAt: builtAt,
                                               racy: Self.isRacy(identities, builtAt: builtAt))
        store(metadata: metadata, ids: corpus.ids.storage, path: path)
        return corpus
    }

    static func isRacy(_ files: [CorpusFileIdentity], builtAt: Double) -> Bool {
        files.contains { Double($0.modified) / 1e9 >= builtAt - racyWindow || Double($0.changed) / 1e9 >= builtAt - racyWindow }
    }

    /// Writes the file through a temporary name and renames it into place; a failure is a warning.
    private func store(metadata: TokenCacheFile.Metadata, ids: TokenIDBuffer, path: String) {
        let name = (path as NSString).lastPathComponent
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            CorpusWarnings.warn("token cache \(directory.path): cannot create the directory (\(SystemError.reason(error))); not cached")
            return
        }
        StaleFiles.removeStale(in: directory, kinds: [Self.temporaryKind])
        let temporary = directory.appendingPathComponent(
            StaleFiles.temporaryName(for: name, kind: Self.temporaryKind, unique: UUID().uuidString)).path
        do {
            try TokenCacheFile.write(metadata: metadata, ids: ids, to: temporary)
        } catch {
            CorpusWarnings.warn("token cache \(directory.path): \(error); not cached")
            return
        }
        if rename(temporary, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            CorpusWarnings.warn("token cache \(path): cannot rename the new file into place (\(reason)); not cached")
        }
    }
}

/// SHA-256 digests of files, computed on a background thread.
private final class ContentHashes: @unchecked Sendable {
    private var digests: [String?] = []
    private let done = DispatchSemaphore(value: 0)
    private var finished = false

    init(paths: [String]) {
        let thread = Thread { [self] in
            digests = paths.map { CorpusFileIdentity.sha256(path: $0) }
            done.signal()
        }
        thread.start()
    }

    /// The digests in order of the paths (nil for a file that could not be read), once all are computed.
    @discardableResult
    func wait() -> [String?] {
        if !finished {
            done.wait()
            finished = true
        }
        return digests
    }
}

/// Everything that decides a cached corpus's ids, as one canonical text; its hash names the cache file.
public struct TokenCacheKey: Sendable, Equatable {
    /// One `name value` line per setting and per input (`train PATH`, `validation PATH`, `test PATH`).
    public let text: String

    /// - Parameters:
    ///   - sources: the inputs of each role as the readers resolved them (absolute, symbolic links resolved).
    ///   - the rest: the arguments of `TokenCorpus.load` that change the ids.
    public init(train: [String], validation: [String], test: [String], tokenizer: TokenizerOptions,
                validationFraction: Double, testFraction: Double, maxVocab: Int?, minCount: Int,
                replaceInvalid: Bool) {
        text = Self.text(leading: [], tokenizer: tokenizer, replaceInvalid: replaceInvalid,
                         vocabularySettings: ["max-vocab \(maxVocab.map(String.init) ?? "none")", "min-count \(minCount)"],
                         validationFraction: validationFraction, testFraction: testFraction,
                         train: train, validation: validation, test: test)
    }

    /// The key of `TokenCorpus.encode`: the inputs encoded with a fixed `vocabulary` (a trained model's),
    /// so the vocabulary's tokenizer and every unit in id order take the place of the settings that build
    /// a vocabulary. A load key and an encoding key never coincide (their first setting line differs).
    public init(train: [String], validation: [String], test: [String], encodingWith vocabulary: Vocabulary,
                validationFraction: Double, testFraction: Double, replaceInvalid: Bool) {
        // The units are hashed in id order, each length-prefixed, so no two vocabularies share a digest
        // by concatenation.
        var hash = SHA256()
        for unit in vocabulary.units {
            let bytes = Array(unit.utf8)
            hash.update(Array(String(bytes.count).utf8) + [0x3A] + bytes)
        }
        text = Self.text(leading: ["encode-with-vocabulary \(vocabulary.count) \(hash.finalizeHex())"],
                         tokenizer: vocabulary.tokenizer, replaceInvalid: replaceInvalid, vocabularySettings: [],
                         validationFraction: validationFraction, testFraction: testFraction,
                         train: train, validation: validation, test: test)
    }

    /// The canonical text: the format line, `leading`, the ICU version and tokenizer, `vocabularySettings`,
    /// the split fractions, then one line per input.
    private static func text(leading: [String], tokenizer: TokenizerOptions, replaceInvalid: Bool,
                             vocabularySettings: [String], validationFraction: Double, testFraction: Double,
                             train: [String], validation: [String], test: [String]) -> String {
        var lines = ["charrnn token cache \(TokenCacheFile.formatVersion)"] + leading + [
            "icu \(ICUInfo.version)",
            "unit \(tokenizer.unit.rawValue)",
            "normalization \(tokenizer.normalization.rawValue)",
            "case-fold \(tokenizer.caseFold)",
            "replace-invalid \(replaceInvalid)",
        ] + vocabularySettings + [
            // Bit patterns: 0.1 and 0.1000000000000001 cut different splits.
            "validation-fraction \(String(validationFraction.bitPattern, radix: 16))",
            "test-fraction \(String(testFraction.bitPattern, radix: 16))",
        ]
        for (role, inputs) in [("train", train), ("validation", validation), ("test", test)] {
            lines += inputs.map { "\(role) \($0)" }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The cache file's name: 32 hex digits of the SHA-256 of `text`, then `.tokens`.
    public var fileName: String {
        var hash = SHA256()
        hash.update(Array(text.utf8))
        return String(hash.finalizeHex().prefix(32)) + ".tokens"
    }
}

extension TokenCache {
    /// The inputs of `reader` for a cache key (absolute paths; `ARCHIVE:MEMBER` for zip members) and the
    /// regular files behind them; empty for no reader; nil when an input cannot be cached (standard input,
    /// a FIFO or pipe, a path that no longer resolves).
    static func inputs(of reader: CorpusReader?) -> (names: [String], files: [String])? {
        guard let reader else { return ([], []) }
        var names: [String] = [], files: [String] = []
        for source in reader.sources {
            switch source {
            case .standardInput:
                return nil
            case .file(let path):
                guard let identity = CorpusFileIdentity(path: path) else { return nil }
                names.append(identity.path)
                files.append(identity.path)
            case .zipMember(let archive, let member):
                guard let identity = CorpusFileIdentity(path: archive) else { return nil }
                names.append("\(identity.path):\(member.name)")
                files.append(identity.path)
            }
        }
        return (names, files)
    }
}
