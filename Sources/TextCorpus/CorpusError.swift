/// Everything that can go wrong while reading, tokenizing, encoding or batching a corpus.
///
/// Each case's `description` is one line that names the file (or option) and the problem, with the byte
/// offset where there is one, so a command-line tool can print it as is.
public enum CorpusError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A path given by the user does not exist.
    case missingPath(String)
    /// A file or directory exists but cannot be opened or read.
    case unreadable(path: String, reason: String)
    /// The path is a device, a socket or another special file: corpora are read from regular files, pipes,
    /// FIFOs or standard input. `kind` names what it is ("character device", "socket", …).
    case specialFile(path: String, kind: String)
    /// A zip archive arrived on a pipe, a FIFO or standard input: its table of contents is at the end, so it
    /// must be a regular file.
    case zipNotRegularFile(path: String)
    /// Bytes follow the last gzip member that are neither another member nor zero padding.
    /// `offset` is the compressed byte offset where they start.
    case trailingGzipData(path: String, offset: Int64)
    /// A directory holds no plain-text or gzip file (hidden files are not considered).
    case noTextFiles(directory: String)
    /// The corpus yields no units at all. `sources` names the inputs.
    case emptyCorpus(sources: String)
    /// A gzip stream ends before its trailer. `offset` is the compressed byte offset reached.
    case truncatedGzip(path: String, offset: Int64)
    /// A gzip stream is damaged (bad CRC, bad length, invalid deflate data).
    case corruptGzip(path: String, offset: Int64, reason: String)
    /// The file is neither gzip nor UTF-8 text. `offset` is the first offending byte (decompressed).
    case binaryData(path: String, offset: Int64, reason: String)
    /// Invalid UTF-8 at decompressed byte `offset` (use `replaceInvalid` to substitute U+FFFD instead).
    case invalidUTF8(path: String, offset: Int64, byte: UInt8)
    /// The split used for batching is shorter than one batch window.
    case corpusTooShort(units: Int, needed: Int, batchSize: Int, sequenceLength: Int)
    /// A vocabulary file cannot be parsed or is inconsistent.
    case malformedVocabulary(path: String, reason: String)
    /// An option value is out of range (for example a split fraction).
    case invalidOption(name: String, reason: String)
    /// ICU reported a failure (missing data, allocation failure).
    case icu(operation: String, status: Int32, name: String)
    /// A zip archive is truncated or malformed, or a member's data is (bad CRC-32, wrong size, bad deflate data).
    case corruptZip(path: String, reason: String)
    /// A zip archive uses a feature not read here (multi-disk archives).
    case unsupportedZip(path: String, reason: String)
    /// A zip member cannot be read: encryption or a compression method other than stored and deflated.
    /// `name` is `archive:member`.
    case unsupportedZipMember(name: String, reason: String)
    /// `archive:member` names no file member of the archive; `available` lists the file members.
    case missingZipMember(archive: String, member: String, available: [String])
    /// `path:member` was given but `path` is not a zip archive.
    case notZipArchive(path: String, member: String)
    /// A zip archive holds no member that looks like text (directories are not considered).
    case noTextMembers(archive: String)
    /// `corpus get --unpack`: a member's name would be written outside the output directory.
    case unsafeZipMemberName(archive: String, member: String)
    /// `corpus get`: no catalog entry has this name.
    case unknownCatalogEntry(name: String, known: [String])
    /// `corpus get`: the file's SHA-256 is not the catalog's.
    case checksumMismatch(path: String, expected: String, actual: String)
    /// `corpus get`: the download or the mirror copy failed.
    case fetchFailed(source: String, reason: String)

    public var description: String {
        switch self {
        case .missingPath(let path):
            return "\(path): no such file or directory"
        case .unreadable(let path, let reason):
            return "\(path): cannot read: \(reason)"
        case .specialFile(let path, let kind):
            return "\(path): is a \(kind); corpora are read from regular files, pipes, FIFOs or standard input (-)"
        case .zipNotRegularFile(let path):
            return "\(path): zip archives must be regular files (they are read from the end); save it to a file first"
        case .trailingGzipData(let path, let offset):
            return "\(path): trailing data after the last gzip member at compressed byte offset \(offset)"
                + " (neither another gzip member nor zero padding)"
        case .noTextFiles(let directory):
            return "\(directory): directory contains no text or gzip files"
        case .emptyCorpus(let sources):
            return "\(sources): empty corpus (no text units)"
        case .truncatedGzip(let path, let offset):
            return "\(path): truncated gzip stream (unexpected end of file at compressed byte offset \(offset))"
        case .corruptGzip(let path, let offset, let reason):
            return "\(path): corrupt gzip stream (\(reason)) near compressed byte offset \(offset)"
        case .binaryData(let path, let offset, let reason):
            return "\(path): binary data, neither gzip nor UTF-8 text (\(reason) at byte offset \(offset))"
        case .invalidUTF8(let path, let offset, let byte):
            let hex = String(byte, radix: 16, uppercase: true)
            return "\(path): invalid UTF-8 (byte 0x\(hex.count < 2 ? "0" + hex : hex)) at byte offset \(offset);"
                + " use --replace-invalid to substitute U+FFFD"
        case .corpusTooShort(let units, let needed, let batchSize, let sequenceLength):
            return "corpus too short: \(units) units, but \(batchSize) streams × \(sequenceLength) steps need"
                + " at least \(needed); lower --batch or --bptt"
        case .malformedVocabulary(let path, let reason):
            return "\(path): malformed vocabulary JSON: \(reason)"
        case .invalidOption(let name, let reason):
            return "\(name): \(reason)"
        case .icu(let operation, let status, let name):
            return "ICU \(operation) failed: \(name) (\(status))"
        case .corruptZip(let path, let reason):
            return "\(path): corrupt zip archive: \(reason)"
        case .unsupportedZip(let path, let reason):
            return "\(path): unsupported zip archive: \(reason)"
        case .unsupportedZipMember(let name, let reason):
            return "\(name): cannot read this zip member: \(reason)"
        case .missingZipMember(let archive, let member, let available):
            let shown = available.prefix(5).joined(separator: ", ")
            let more = available.count > 5 ? ", … (\(available.count) in all)" : ""
            let list = available.isEmpty ? "the archive has no file members" : "members: \(shown)\(more)"
            return "\(archive):\(member): no member named '\(member)' in \(archive) (\(list))"
        case .notZipArchive(let path, let member):
            return "\(path):\(member): no such file, and \(path) is not a zip archive to take member '\(member)' from"
        case .noTextMembers(let archive):
            return "\(archive): zip archive contains no text members"
        case .unsafeZipMemberName(let archive, let member):
            return "\(archive): member name '\(member)' is absolute or contains '..'; not unpacked"
        case .unknownCatalogEntry(let name, let known):
            return "\(name): not in the corpus catalog (known: \(known.joined(separator: ", ")))"
        case .checksumMismatch(let path, let expected, let actual):
            return "\(path): SHA-256 mismatch (expected \(expected), got \(actual)); file removed"
        case .fetchFailed(let source, let reason):
            return "\(source): \(reason)"
        }
    }
}
