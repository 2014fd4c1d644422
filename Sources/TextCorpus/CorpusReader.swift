import CZlib
import Foundation

/// Reads a corpus as a stream of well-formed UTF-8 chunks.
///
/// Inputs are files, directories (searched recursively in sorted path order; hidden entries skipped; only
/// regular files that look like gzip or UTF-8 text are taken; FIFOs, sockets and devices inside are skipped
/// with a warning, never opened), zip archives, `ARCHIVE:MEMBER` for one member of a zip archive (when no
/// file has that exact name), FIFOs and pipes (`/dev/fd/N`, as process substitution gives), and `-` for
/// standard input. Devices and sockets named as inputs are refused (`specialFile`). Every plain or gzip
/// input is opened once and sniffed from its own stream, so a pipe is read completely. Gzip is recognized
/// by its magic bytes 1F 8B and zip by `PK\x03\x04`, never by the file name; concatenated multi-member gzip
/// files are read to the end, and bytes after the last member are an error (`trailingGzipData`) unless they
/// are zero padding (skipped with a warning). A zip archive must be a regular file (`zipNotRegularFile`):
/// it stands for its members that look like text, in archive order (directories and empty members
/// skipped); zip archives inside a directory are not opened. Decompressed text is delivered in chunks of
/// about `chunkSize` bytes; a chunk never ends inside a multi-byte character. Memory use is a few chunk
/// buffers, whatever the corpus size. Warnings go to `CorpusWarnings`.
public struct CorpusReader: Sendable {
    /// One input.
    public enum Source: Sendable, Equatable, CustomStringConvertible {
        case file(String)
        case standardInput
        /// One member of the zip archive at path `archive`.
        case zipMember(archive: String, member: ZipArchive.Member)

        public var description: String {
            switch self {
            case .file(let path): return path
            case .standardInput: return "<stdin>"
            case .zipMember(let archive, let member): return "\(archive):\(member.name)"
            }
        }
    }

    /// Reading options.
    public struct Options: Sendable, Equatable {
        /// Substitute U+FFFD for ill-formed UTF-8 (one per maximal subpart) instead of failing.
        public var replaceInvalid: Bool
        /// Decompressed bytes per chunk.
        public var chunkSize: Int

        public init(replaceInvalid: Bool = false, chunkSize: Int = 1 << 20) {
            self.replaceInvalid = replaceInvalid
            self.chunkSize = max(4, chunkSize)
        }
    }

    /// What reading produced, besides the text.
    public struct Statistics: Sendable, Equatable, Codable {
        /// Decompressed bytes read (before any replacement).
        public var bytes: Int64 = 0
        /// Compressed bytes of gzip inputs and zip members plus the bytes of plain inputs, as stored.
        public var storedBytes: Int64 = 0
        /// Ill-formed bytes replaced by U+FFFD.
        public var invalidBytes: Int64 = 0
        /// U+FFFD characters inserted.
        public var replacements: Int64 = 0
        /// Inputs read.
        public var files: Int = 0
        /// Inputs that were gzip.
        public var gzipFiles: Int = 0
        /// Inputs that were zip members.
        public var zipMembers: Int = 0

        public init() {}

        /// Adds the counts of `other` (a reading of further inputs).
        public mutating func add(_ other: Statistics) {
            bytes += other.bytes
            storedBytes += other.storedBytes
            invalidBytes += other.invalidBytes
            replacements += other.replacements
            files += other.files
            gzipFiles += other.gzipFiles
            zipMembers += other.zipMembers
        }
    }

    /// The inputs in reading order (directories expanded).
    public let sources: [Source]
    public let options: Options

    /// Bytes examined to tell text from binary data.
    static let sniffLength = 4096

    /// Resolves `paths` into sources. Throws `missingPath`, `unreadable`, `noTextFiles`, and for zip inputs
    /// `corruptZip`, `missingZipMember`, `notZipArchive`, `noTextMembers` or `unsupportedZipMember`.
    public init(paths: [String], options: Options = Options()) throws {
        self.options = options
        var sources: [Source] = []
        for path in paths {
            if path == "-" {
                sources.append(.standardInput)
                continue
            }
            // Only regular files are opened here (to sniff for zip); a FIFO or pipe is opened once, when read.
            guard let kind = try FileKind.of(path: path) else {
                // Not a file: perhaps ARCHIVE:MEMBER.
                guard let (archive, member) = try Self.archiveAndMember(path) else { throw CorpusError.missingPath(path) }
                guard try FileKind.of(path: archive) == .regular else { throw CorpusError.zipNotRegularFile(path: archive) }
                guard access(archive, R_OK) == 0 else {
                    throw CorpusError.unreadable(path: archive, reason: "permission denied")
                }
                guard ZipArchive.isZip(path: archive) else { throw CorpusError.notZipArchive(path: archive, member: member) }
                let entry = try ZipArchive(path: archive).member(named: member)
                sources.append(.zipMember(archive: archive, member: entry))
                continue
            }
            switch kind {
            case .directory:
                let files = try Self.textFiles(inDirectory: path)
                if files.isEmpty { throw CorpusError.noTextFiles(directory: path) }
                sources.append(contentsOf: files.map { .file($0) })
            case .regular:
                guard access(path, R_OK) == 0 else {
                    throw CorpusError.unreadable(path: path, reason: "permission denied")
                }
                if ZipArchive.isZip(path: path) {
                    let members = try Self.textMembers(of: ZipArchive(path: path))
                    if members.isEmpty { throw CorpusError.noTextMembers(archive: path) }
                    sources.append(contentsOf: members.map { .zipMember(archive: path, member: $0) })
                } else {
                    sources.append(.file(path))
                }
            case .fifo:
                sources.append(.file(path))
            default:
                throw CorpusError.specialFile(path: path, kind: kind.rawValue)
            }
        }
        self.sources = sources
    }

    /// Splits `ARCHIVE:MEMBER` at the first colon whose left part exists and is not a directory.
    static func archiveAndMember(_ path: String) throws -> (archive: String, member: String)? {
        var index = path.startIndex
        while let colon = path[index...].firstIndex(of: ":") {
            let archive = String(path[..<colon])
            if !archive.isEmpty, let kind = try FileKind.of(path: archive), kind != .directory {
                return (archive, String(path[path.index(after: colon)...]))
            }
            index = path.index(after: colon)
        }
        return nil
    }

    /// The file members of `archive` whose first decompressed bytes look like UTF-8 text, in archive order.
    /// Throws `unsupportedZipMember` for a member that cannot be read (encrypted, unknown method).
    static func textMembers(of archive: ZipArchive) throws -> [ZipArchive.Member] {
        var found: [ZipArchive.Member] = []
        var head = [UInt8](repeating: 0, count: sniffLength)
        for member in archive.members where !member.isDirectory && member.uncompressedSize > 0 {
            let stream = try ZipMemberStream(archivePath: archive.path, member: member)
            let got = try head.withUnsafeMutableBytes { try stream.read(into: $0) }
            if looksLikeText(Array(head[0..<got]), cutByWindow: got == sniffLength) { found.append(member) }
        }
        return found
    }

    /// An estimate of the decoded size in bytes, for reserving memory: the size of plain files; for gzip
    /// files the ISIZE trailer (decoded size mod 2³², of the last member only) and for zip members the
    /// declared size, each at most 8 × the stored size (declared sizes are hints, never trusted for an
    /// allocation). 0 for standard input.
    public func estimatedDecodedBytes() -> Int {
        var total = 0
        for source in sources {
            guard case .zipMember(_, let member) = source else { continue }
            // compressedSize is at most the archive's size (checked when the directory is read).
            total += Int(min(member.uncompressedSize, 8 * member.compressedSize))
        }
        for case .file(let path) in sources {
            // A FIFO or pipe is read once, by `read`: never opened here.
            guard (try? FileKind.of(path: path)) == .regular else { continue }
            guard let handle = FileHandle(forReadingAtPath: path) else { continue }
            defer { try? handle.close() }
            guard let head = try? handle.read(upToCount: 2), let end = try? handle.seekToEnd() else { continue }
            if head.count == 2 && head[head.startIndex] == 0x1F && head[head.startIndex + 1] == 0x8B && end >= 18 {
                guard (try? handle.seek(toOffset: end - 4)) != nil, let trailer = try? handle.read(upToCount: 4),
                      trailer.count == 4 else { continue }
                let bytes = [UInt8](trailer)
                let declared = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
                total += min(declared, 8 * Int(end))
            } else {
                total += Int(end)
            }
        }
        return total
    }

    /// Regular files under `directory` (recursive, sorted by path bytes) that start like gzip or UTF-8 text.
    /// FIFOs, sockets, devices and dangling symbolic links are never opened: each is skipped with a warning.
    static func textFiles(inDirectory directory: String) throws -> [String] {
        let fileManager = FileManager.default
        guard let enumerator = fileManager.enumerator(atPath: directory) else {
            throw CorpusError.unreadable(path: directory, reason: "cannot list directory")
        }
        var candidates: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix(".") {
                enumerator.skipDescendants()
                continue
            }
            let full = (directory as NSString).appendingPathComponent(relative)
            switch try? FileKind.of(path: full) {
            case .regular?:
                candidates.append(full)
            case .directory?:
                continue
            case nil:
                CorpusWarnings.warn("\(full): skipped (a dangling symbolic link or unreadable entry)")
            case let kind?:
                CorpusWarnings.warn("\(full): skipped (a \(kind.rawValue), not a regular file)")
            }
        }
        candidates.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        return candidates.filter(looksLikeTextOrGzip)
    }

    /// True when the regular file starts with the gzip magic, or its first bytes hold no NUL and are
    /// well-formed UTF-8 (a sequence cut by the sniff window is allowed).
    static func looksLikeTextOrGzip(_ path: String) -> Bool {
        guard let descriptor = try? FileKind.openRegularFile(path) else { return false }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: sniffLength)
        var count = 0
        while count < sniffLength {
            let got = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + count, sniffLength - count, off_t(count)) }
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { break }
            count += got
        }
        bytes.removeSubrange(count...)
        if bytes.isEmpty { return false }
        if bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B { return true }
        return looksLikeText(bytes, cutByWindow: bytes.count == sniffLength)
    }

    /// True when `bytes` (the start of an input) are not empty, hold no NUL and are well-formed UTF-8; a
    /// final sequence cut off is allowed when `cutByWindow` (the input goes on).
    static func looksLikeText(_ bytes: [UInt8], cutByWindow: Bool) -> Bool {
        if bytes.isEmpty || bytes.contains(0) { return false }
        return bytes.withUnsafeBufferPointer { buffer in
            switch UTF8Validation.scan(buffer, from: 0) {
            case .end: return true
            case .incomplete: return cutByWindow
            case .invalid: return false
            }
        }
    }

    /// Reads every source in order and calls `body` with each chunk of well-formed UTF-8 (never empty;
    /// valid only during the call) and the source it came from, then `endOfSource` after each source.
    /// Returns what was read. Throws `CorpusError` for unreadable, truncated, corrupt, binary (a NUL byte
    /// anywhere) or ill-formed input (unless `replaceInvalid`), or whatever `body` throws. A UTF-8 byte
    /// order mark at the start of an input is read as the character U+FEFF, with a warning.
    @discardableResult
    public func read(
        _ body: (UnsafeBufferPointer<UInt8>, Source) throws -> Void,
        endOfSource: (Source) throws -> Void = { _ in }
    ) throws -> Statistics {
        var statistics = Statistics()
        for source in sources {
            try read(source, statistics: &statistics, body)
            try endOfSource(source)
        }
        return statistics
    }

    private func read(
        _ source: Source, statistics: inout Statistics,
        _ body: (UnsafeBufferPointer<UInt8>, Source) throws -> Void
    ) throws {
        let name = source.description
        let input: any ByteInput
        switch source {
        case .standardInput, .file: input = try StreamInput(source)
        case .zipMember(let archive, let member): input = try ZipMemberStream(archivePath: archive, member: member)
        }

        let chunkSize = options.chunkSize
        // raw[0..<carry] holds the incomplete tail of the previous read.
        var raw = [UInt8](repeating: 0, count: chunkSize + 4)
        var output: [UInt8] = []
        var carry = 0
        var offset: Int64 = 0  // decompressed offset of raw[0]
        var sniffed = false
        var atEnd = false
        statistics.files += 1

        while !atEnd {
            let got = try raw.withUnsafeMutableBytes { buffer in
                try input.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[carry..<(carry + chunkSize)]))
            }
            if got == 0 { atEnd = true }
            if !sniffed && got > 0 {
                sniffed = true
                if case .zipMember = source {
                    statistics.zipMembers += 1
                } else if let stream = input as? StreamInput, stream.isCompressed {
                    statistics.gzipFiles += 1
                }
                try raw.withUnsafeBufferPointer { buffer in
                    try Self.checkNotBinary(UnsafeBufferPointer(rebasing: buffer[0..<min(Int(got), Self.sniffLength)]),
                                            name: name)
                }
                if got >= 3 && raw[0] == 0xEF && raw[1] == 0xBB && raw[2] == 0xBF {
                    CorpusWarnings.warn("\(name): starts with a UTF-8 byte order mark (U+FEFF), read as a character")
                }
            }
            // A NUL byte anywhere is binary data, not text (as in the first bytes).
            let nul = got == 0 ? nil : raw.withUnsafeBufferPointer { buffer -> Int? in
                memchr(buffer.baseAddress! + carry, 0, got).map { UnsafeRawPointer($0) - UnsafeRawPointer(buffer.baseAddress!) }
            }
            if let nul { throw CorpusError.binaryData(path: name, offset: offset + Int64(nul), reason: "NUL byte") }
            let available = carry + Int(got)
            statistics.bytes += Int64(got)
            if available == 0 { break }
            var consumed = 0  // bytes of raw handled this round
            try raw.withUnsafeBufferPointer { all in
                let buffer = UnsafeBufferPointer(rebasing: all[0..<available])
                var start = 0
                output.removeAll(keepingCapacity: true)
                var replacing = false
                scanning: while true {
                    let stop = UTF8Validation.scan(buffer, from: start)
                    switch stop {
                    case .end:
                        if replacing { output.append(contentsOf: buffer[start..<available]) }
                        consumed = available
                        break scanning
                    case .incomplete(let at):
                        if atEnd {
                            // A sequence cut off by the end of the input is ill-formed.
                            guard options.replaceInvalid else {
                                throw CorpusError.invalidUTF8(path: name, offset: offset + Int64(at), byte: buffer[at])
                            }
                            output.append(contentsOf: buffer[start..<at])
                            output.append(contentsOf: [0xEF, 0xBF, 0xBD])
                            statistics.invalidBytes += Int64(available - at)
                            statistics.replacements += 1
                            replacing = true
                            consumed = available
                        } else {
                            if replacing { output.append(contentsOf: buffer[start..<at]) }
                            consumed = at
                        }
                        break scanning
                    case .invalid(let at, let length):
                        guard options.replaceInvalid else {
                            throw CorpusError.invalidUTF8(path: name, offset: offset + Int64(at), byte: buffer[at])
                        }
                        output.append(contentsOf: buffer[start..<at])
                        output.append(contentsOf: [0xEF, 0xBF, 0xBD])
                        statistics.invalidBytes += Int64(length)
                        statistics.replacements += 1
                        replacing = true
                        start = at + length
                    }
                }
                if replacing {
                    if !output.isEmpty { try output.withUnsafeBufferPointer { try body($0, source) } }
                } else if consumed > 0 {
                    try body(UnsafeBufferPointer(rebasing: buffer[0..<consumed]), source)
                }
            }
            // Move the incomplete tail to the front.
            let tail = available - consumed
            if tail > 0 {
                for k in 0..<tail { raw[k] = raw[consumed + k] }
            }
            carry = tail
            offset += Int64(consumed)
        }
        if case .zipMember(_, let member) = source {
            statistics.storedBytes += Int64(clamping: member.compressedSize)
        } else if let stream = input as? StreamInput {
            statistics.storedBytes += stream.storedBytes
        }
    }

    /// Rejects data that is clearly not text: a NUL byte, or more than 1% ill-formed UTF-8 (at least 4
    /// sequences), in the first bytes. (`read` refuses a NUL byte anywhere later too.)
    static func checkNotBinary(_ head: UnsafeBufferPointer<UInt8>, name: String) throws {
        if let nul = head.firstIndex(of: 0) {
            throw CorpusError.binaryData(path: name, offset: Int64(nul), reason: "NUL byte")
        }
        var invalid = 0
        var first: Int?
        var start = 0
        loop: while true {
            switch UTF8Validation.scan(head, from: start) {
            case .end, .incomplete: break loop
            case .invalid(let at, let length):
                invalid += 1
                if first == nil { first = at }
                start = at + length
            }
        }
        if let first, invalid >= 4, invalid * 100 > head.count {
            throw CorpusError.binaryData(
                path: name, offset: Int64(first),
                reason: "\(invalid) ill-formed UTF-8 sequences in the first \(head.count) bytes, first")
        }
    }
}

/// A source of decompressed bytes for `CorpusReader`.
protocol ByteInput: AnyObject {
    /// Fills up to `buffer.count` bytes; 0 at the end. Throws `CorpusError` for damaged or unreadable input.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension ZipMemberStream: ByteInput {}
