import CZlib
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One token cache file: a loaded corpus (ids, vocabulary, splits, statistics) and the key and inputs it was
/// built from.
///
/// Layout (integers little-endian):
///
/// | bytes | field |
/// | --- | --- |
/// | 0..<8 | magic `CHRNNTOK` |
/// | 8..<12 | format version (`formatVersion`) |
/// | 12..<16 | bytes per id: 1, 2 or 4 |
/// | 16..<24 | number of ids |
/// | 24..<32 | metadata length (JSON, from byte 64) |
/// | 32..<40 | offset of the ids (a multiple of 4096, after the metadata) |
/// | 40..<44 | CRC-32 of the metadata |
/// | 44..<48 | CRC-32 of the ids |
/// | 48..<60 | zero |
/// | 60..<64 | CRC-32 of bytes 0..<60 |
///
/// The file ends exactly after the ids. A file whose header, sizes or checksums disagree is `corrupt`
/// (truncated, bit-flipped, or not a token cache file at all); one of another format version is `foreign`.
struct TokenCacheFile {
    static let magic = Array("CHRNNTOK".utf8)
    /// Bumped whenever the layout, the metadata or the meaning of the ids changes.
    static let formatVersion: UInt32 = 1
    static let headerSize = 64
    static let idsAlignment = 4096

    /// What the metadata JSON holds.
    struct Metadata: Codable, Equatable {
        /// The canonical key text (`TokenCacheKey.text`): compared in full, so a name collision or a renamed
        /// file is never taken for the right one.
        var key: String
        /// The input files as they were when the ids were built.
        var files: [CorpusFileIdentity]
        /// Wall-clock time (seconds since 1970) when reading began.
        var builtAt: Double
        /// True when an input was modified so shortly before the build that a later change within the same
        /// timestamp tick could not be seen: then every load verifies the content hashes.
        var racy: Bool
        var tokenizer: TokenizerOptions
        /// The vocabulary's units in id order (`<unk>` first).
        var units: [String]
        var splits: CorpusSplits
        var reading: CorpusReader.Statistics
        var distinctUnits: Int
        var unknownUnits: Int
        /// `statistics.frequencies` as two parallel arrays.
        var frequencyUnits: [String]
        var frequencyCounts: [Int]
        var validationFiles: [String]
        var testFiles: [String]
    }

    /// Why a file was not used.
    enum Problem: Error, Equatable, CustomStringConvertible {
        /// Not readable as a token cache file of this format: `reason` says what disagrees.
        case corrupt(String)
        /// A token cache file of another format version.
        case foreign(version: UInt32)

        var description: String {
            switch self {
            case .corrupt(let reason): "corrupt (\(reason))"
            case .foreign(let version): "written in token cache format \(version), this program reads \(TokenCacheFile.formatVersion)"
            }
        }
    }

    let metadata: Metadata
    /// The ids, a view into the mapped file.
    let ids: TokenIDBuffer
    let vocabulary: Vocabulary

    /// The corpus the file holds (its ids not copied).
    func corpus() -> TokenCorpus {
        let frequencies = zip(metadata.frequencyUnits, metadata.frequencyCounts).map { (unit: $0, count: $1) }
        let statistics = TokenCorpus.Statistics(reading: metadata.reading, units: ids.count, distinctUnits: metadata.distinctUnits,
                                                unknownUnits: metadata.unknownUnits, frequencies: frequencies)
        return TokenCorpus(ids: TokenIDs(storage: ids, bounds: 0..<ids.count), vocabulary: vocabulary, splits: metadata.splits,
                           statistics: statistics, validationFiles: metadata.validationFiles, testFiles: metadata.testFiles)
    }

    /// The metadata of `corpus` built under `key` from `files`.
    static func metadata(of corpus: TokenCorpus, key: String, files: [CorpusFileIdentity], builtAt: Double, racy: Bool) -> Metadata {
        Metadata(key: key, files: files, builtAt: builtAt, racy: racy, tokenizer: corpus.vocabulary.tokenizer,
                 units: corpus.vocabulary.units, splits: corpus.splits, reading: corpus.statistics.reading,
                 distinctUnits: corpus.statistics.distinctUnits, unknownUnits: corpus.statistics.unknownUnits,
                 frequencyUnits: corpus.statistics.frequencies.map(\.unit), frequencyCounts: corpus.statistics.frequencies.map(\.count),
                 validationFiles: corpus.validationFiles, testFiles: corpus.testFiles)
    }

    // MARK: Reading

    /// Maps the file at `path` and checks it completely (header, sizes, both checksums, metadata that fits
    /// the ids). The ids are not copied. Throws `Problem`, or `MappedFileError`/`CocoaError` when it cannot
    /// be opened (a missing file: `ENOENT` from `open`, reported as `nil`).
    static func open(path: String) throws -> TokenCacheFile? {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            if errno == ENOENT { return nil }
            throw MappedFileError(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        let mapping = try MappedFile(descriptor: descriptor, path: path)
        return try read(mapping)
    }

    /// Checks and reads a mapped token cache file.
    static func read(_ mapping: MappedFile) throws -> TokenCacheFile {
        let bytes = mapping.bytes
        guard bytes.count >= headerSize else { throw Problem.corrupt("\(bytes.count) bytes, shorter than the \(headerSize)-byte header") }
        guard Array(bytes[0..<8]) == magic else { throw Problem.corrupt("not a token cache file: no CHRNNTOK magic") }
        func u32(_ offset: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
        func u64(_ offset: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
        guard crc(UnsafeRawBufferPointer(rebasing: bytes[0..<60])) == u32(60) else { throw Problem.corrupt("header checksum mismatch") }
        let version = u32(8)
        guard version == formatVersion else { throw Problem.foreign(version: version) }
        guard let width = TokenIDBuffer.Width(rawValue: Int(u32(12))) else { throw Problem.corrupt("id width \(u32(12))") }
        let count = u64(16), metadataLength = u64(24), idsOffset = u64(32)
        let fileSize = UInt64(bytes.count)
        guard metadataLength <= fileSize, idsOffset <= fileSize, idsOffset >= UInt64(headerSize) + metadataLength,
              idsOffset % UInt64(idsAlignment) == 0 else {
            throw Problem.corrupt("metadata length \(metadataLength) or ids offset \(idsOffset) outside the file's \(fileSize) bytes")
        }
        let (idBytes, overflow) = count.multipliedReportingOverflow(by: UInt64(width.rawValue))
        guard !overflow, idsOffset + idBytes == fileSize else {
            throw Problem.corrupt("\(fileSize) bytes, but \(count) ids of \(width.rawValue) bytes after byte \(idsOffset) need \(overflow ? "more" : "\(idsOffset &+ idBytes)") (truncated?)")
        }
        let metadataBytes = UnsafeRawBufferPointer(rebasing: bytes[headerSize..<(headerSize + Int(metadataLength))])
        guard crc(metadataBytes) == u32(40) else { throw Problem.corrupt("metadata checksum mismatch") }
        let idRegion = UnsafeRawBufferPointer(rebasing: bytes[Int(idsOffset)..<bytes.count])
        guard crc(idRegion) == u32(44) else { throw Problem.corrupt("token id checksum mismatch") }
        let metadata: Metadata
        do {
            metadata = try JSONDecoder().decode(Metadata.self, from: Data(metadataBytes))
        } catch {
            throw Problem.corrupt("metadata is not valid JSON for this format")
        }
        let ids = TokenIDBuffer(mapping: mapping, offset: Int(idsOffset), count: Int(count), width: width)
        try check(metadata, ids: ids)
        let vocabulary = Vocabulary(units: metadata.units.dropFirst(), tokenizer: metadata.tokenizer)
        guard vocabulary.units == metadata.units else { throw Problem.corrupt("vocabulary units are not in id order") }
        return TokenCacheFile(metadata: metadata, ids: ids, vocabulary: vocabulary)
    }

    /// The metadata must describe these ids: split sizes that add up, ids below the vocabulary size, counts
    /// that match. Guards against a file whose checksums are right but whose content was made by mistake.
    private static func check(_ metadata: Metadata, ids: TokenIDBuffer) throws {
        let splits = metadata.splits
        guard splits.train.lowerBound == 0, splits.validation.lowerBound == splits.train.upperBound,
              splits.test.lowerBound == splits.validation.upperBound, splits.test.upperBound == ids.count else {
            throw Problem.corrupt("splits \(splits.train.count)/\(splits.validation.count)/\(splits.test.count) do not cover the \(ids.count) ids")
        }
        guard metadata.units.first == Vocabulary.unknownToken, Set(metadata.units).count == metadata.units.count,
              metadata.frequencyUnits.count == metadata.frequencyCounts.count else {
            throw Problem.corrupt("vocabulary or frequency table is malformed")
        }
        // Ids are at most as wide as the vocabulary needs; narrower when the largest id in the corpus
        // needs less (a corpus encoded with a trained model's vocabulary need not use its last units).
        guard ids.width.rawValue <= TokenIDBuffer.width(forIDsBelow: metadata.units.count).rawValue else {
            throw Problem.corrupt("\(ids.width.rawValue)-byte ids for a vocabulary of \(metadata.units.count)")
        }
        // The narrowest width can still hold ids past the vocabulary (a UInt8 id of 200 for 150 units).
        var largest: Int32 = 0
        ids.forEach { _, id in largest = max(largest, id) }
        guard Int(largest) < metadata.units.count else {
            throw Problem.corrupt("id \(largest) outside the vocabulary of \(metadata.units.count)")
        }
    }

    // MARK: Writing

    /// Writes `metadata` and `ids` to a new file at `temporaryPath` (which must not exist). The caller
    /// renames it into place; on failure it is removed. Throws `TokenCacheWriteError`.
    static func write(metadata: Metadata, ids: TokenIDBuffer, to temporaryPath: String) throws {
        let json: Data
        do { json = try JSONEncoder().encode(metadata) } catch {
            throw TokenCacheWriteError(path: temporaryPath, reason: "cannot encode the metadata: \(error)")
        }
        let idBytes = ids.rawBytes
        let idsOffset = (headerSize + json.count + idsAlignment - 1) / idsAlignment * idsAlignment
        var header = [UInt8](repeating: 0, count: headerSize)
        func put32(_ value: UInt32, at offset: Int) { withUnsafeBytes(of: value.littleEndian) { header.replaceSubrange(offset..<(offset + 4), with: $0) } }
        func put64(_ value: UInt64, at offset: Int) { withUnsafeBytes(of: value.littleEndian) { header.replaceSubrange(offset..<(offset + 8), with: $0) } }
        header.replaceSubrange(0..<8, with: magic)
        put32(formatVersion, at: 8)
        put32(UInt32(ids.width.rawValue), at: 12)
        put64(UInt64(ids.count), at: 16)
        put64(UInt64(json.count), at: 24)
        put64(UInt64(idsOffset), at: 32)
        put32(json.withUnsafeBytes { crc($0) }, at: 40)
        put32(crc(idBytes), at: 44)
        put32(header.withUnsafeBytes { crc(UnsafeRawBufferPointer(rebasing: $0[0..<60])) }, at: 60)

        let descriptor = Glibc.open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw TokenCacheWriteError(path: temporaryPath, reason: String(cString: strerror(errno))) }
        var closed = false
        defer { if !closed { close(descriptor) } }
        do {
            try header.withUnsafeBytes { try writeAll(descriptor, $0, path: temporaryPath) }
            try json.withUnsafeBytes { try writeAll(descriptor, $0, path: temporaryPath) }
            let padding = [UInt8](repeating: 0, count: idsOffset - headerSize - json.count)
            try padding.withUnsafeBytes { try writeAll(descriptor, $0, path: temporaryPath) }
            try writeAll(descriptor, idBytes, path: temporaryPath)
            closed = true
            guard close(descriptor) == 0 else { throw TokenCacheWriteError(path: temporaryPath, reason: String(cString: strerror(errno))) }
        } catch {
            unlink(temporaryPath)
            throw error
        }
    }

    private static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var done = 0
        while done < bytes.count {
            let wrote = Glibc.write(descriptor, bytes.baseAddress.unsafelyUnwrapped + done, bytes.count - done)
            if wrote < 0 && errno == EINTR { continue }
            guard wrote > 0 else { throw TokenCacheWriteError(path: path, reason: String(cString: strerror(errno))) }
            done += wrote
        }
    }

    /// zlib's CRC-32 of `bytes`.
    static func crc(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
        return UInt32(truncatingIfNeeded: crc32_z(0, base.assumingMemoryBound(to: UInt8.self), bytes.count))
    }
}

/// A token cache file could not be written (the corpus is used all the same).
struct TokenCacheWriteError: Error, CustomStringConvertible {
    let path: String
    let reason: String
    var description: String { "\(path): cannot write: \(reason)" }
}
