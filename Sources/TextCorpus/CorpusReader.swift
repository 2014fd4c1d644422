import CZlib
import Foundation

/// Reads a corpus as a stream of well-formed UTF-8 chunks.
///
/// Inputs are files, directories (searched recursively in sorted path order; hidden entries skipped; only
/// files that look like gzip or UTF-8 text are taken) and `-` for standard input. Gzip is recognized by its
/// magic bytes 1F 8B, never by the file name, and concatenated multi-member gzip files are read to the end
/// (zlib's gzread). Decompressed text is delivered in chunks of about `chunkSize` bytes; a chunk never ends
/// inside a multi-byte character. Memory use is a few chunk buffers, whatever the corpus size.
public struct CorpusReader: Sendable {
    /// One input.
    public enum Source: Sendable, Equatable, CustomStringConvertible {
        case file(String)
        case standardInput

        public var description: String {
            switch self {
            case .file(let path): return path
            case .standardInput: return "<stdin>"
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
        /// Compressed bytes of gzip inputs plus the bytes of plain inputs, as stored.
        public var storedBytes: Int64 = 0
        /// Ill-formed bytes replaced by U+FFFD.
        public var invalidBytes: Int64 = 0
        /// U+FFFD characters inserted.
        public var replacements: Int64 = 0
        /// Inputs read.
        public var files: Int = 0
        /// Inputs that were gzip.
        public var gzipFiles: Int = 0

        public init() {}
    }

    /// The inputs in reading order (directories expanded).
    public let sources: [Source]
    public let options: Options

    /// Bytes examined to tell text from binary data.
    static let sniffLength = 4096

    /// Resolves `paths` into sources. Throws `missingPath`, `unreadable` or `noTextFiles`.
    public init(paths: [String], options: Options = Options()) throws {
        self.options = options
        var sources: [Source] = []
        let fileManager = FileManager.default
        for path in paths {
            if path == "-" {
                sources.append(.standardInput)
                continue
            }
            var isDirectory: ObjCBool = false
            guard fileManager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw CorpusError.missingPath(path)
            }
            if isDirectory.boolValue {
                let files = try Self.textFiles(inDirectory: path)
                if files.isEmpty { throw CorpusError.noTextFiles(directory: path) }
                sources.append(contentsOf: files.map { .file($0) })
            } else {
                guard fileManager.isReadableFile(atPath: path) else {
                    throw CorpusError.unreadable(path: path, reason: "permission denied")
                }
                sources.append(.file(path))
            }
        }
        self.sources = sources
    }

    /// An estimate of the decoded size in bytes, for reserving memory: the size of plain files, and the
    /// ISIZE trailer (decoded size mod 2³², of the last member only) of gzip files. 0 for standard input.
    public func estimatedDecodedBytes() -> Int {
        var total = 0
        for case .file(let path) in sources {
            guard let handle = FileHandle(forReadingAtPath: path) else { continue }
            defer { try? handle.close() }
            guard let head = try? handle.read(upToCount: 2), let end = try? handle.seekToEnd() else { continue }
            if head.count == 2 && head[head.startIndex] == 0x1F && head[head.startIndex + 1] == 0x8B && end >= 18 {
                guard (try? handle.seek(toOffset: end - 4)) != nil, let trailer = try? handle.read(upToCount: 4),
                      trailer.count == 4 else { continue }
                let bytes = [UInt8](trailer)
                total += Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
            } else {
                total += Int(end)
            }
        }
        return total
    }

    /// Regular files under `directory` (recursive, sorted by path bytes) that start like gzip or UTF-8 text.
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
            var isDirectory: ObjCBool = false
            if fileManager.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue {
                candidates.append(full)
            }
        }
        candidates.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        return candidates.filter(looksLikeTextOrGzip)
    }

    /// True when the file starts with the gzip magic, or its first bytes hold no NUL and are well-formed
    /// UTF-8 (a sequence cut by the sniff window is allowed).
    static func looksLikeTextOrGzip(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: sniffLength), !data.isEmpty else { return false }
        let bytes = [UInt8](data)
        if bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B { return true }
        if bytes.contains(0) { return false }
        return bytes.withUnsafeBufferPointer { buffer in
            switch UTF8Validation.scan(buffer, from: 0) {
            case .end: return true
            case .incomplete: return bytes.count == sniffLength
            case .invalid: return false
            }
        }
    }

    /// Reads every source in order and calls `body` with each chunk of well-formed UTF-8 (never empty;
    /// valid only during the call) and the source it came from, then `endOfSource` after each source.
    /// Returns what was read. Throws `CorpusError` for unreadable, truncated, corrupt, binary or
    /// ill-formed input (unless `replaceInvalid`), or whatever `body` throws.
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
        let descriptor: Int32
        switch source {
        case .standardInput:
            descriptor = dup(0)
        case .file(let path):
            descriptor = open(path, O_RDONLY)
        }
        guard descriptor >= 0 else {
            throw CorpusError.unreadable(path: name, reason: String(cString: strerror(errno)))
        }
        guard let file = gzdopen(descriptor, "rb") else {
            close(descriptor)
            throw CorpusError.unreadable(path: name, reason: "cannot open")
        }
        defer { gzclose(file) }
        gzbuffer(file, 256 * 1024)

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
            let got = raw.withUnsafeMutableBytes { buffer in
                gzread(file, buffer.baseAddress! + carry, UInt32(chunkSize))
            }
            if got < 0 {
                var errorNumber: Int32 = 0
                let message = String(cString: gzerror(file, &errorNumber))
                let position = Int64(gzoffset(file))
                if errorNumber == Z_BUF_ERROR { throw CorpusError.truncatedGzip(path: name, offset: position) }
                if errorNumber == Z_ERRNO {
                    throw CorpusError.unreadable(path: name, reason: String(cString: strerror(errno)))
                }
                throw CorpusError.corruptGzip(path: name, offset: position, reason: message)
            }
            if got == 0 {
                // gzread returns 0 at the end; a truncated stream is reported by gzerror.
                var errorNumber: Int32 = 0
                let message = String(cString: gzerror(file, &errorNumber))
                if errorNumber == Z_BUF_ERROR {
                    throw CorpusError.truncatedGzip(path: name, offset: Int64(gzoffset(file)))
                } else if errorNumber != Z_OK {
                    throw CorpusError.corruptGzip(path: name, offset: Int64(gzoffset(file)), reason: message)
                }
                atEnd = true
            }
            if !sniffed && got > 0 {
                sniffed = true
                if gzdirect(file) == 0 { statistics.gzipFiles += 1 }
                try raw.withUnsafeBufferPointer { buffer in
                    try Self.checkNotBinary(UnsafeBufferPointer(rebasing: buffer[0..<min(Int(got), Self.sniffLength)]),
                                            name: name)
                }
            }
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
        if case .file(let path) = source,
           let attributes = try? FileManager.default.attributesOfItem(atPath: path),
           let size = attributes[.size] as? NSNumber {
            statistics.storedBytes += size.int64Value
        }
    }

    /// Rejects data that is clearly not text: a NUL byte, or more than 1% ill-formed UTF-8 (at least 4
    /// sequences), in the first bytes.
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
