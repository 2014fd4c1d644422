import CZlib
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A plain or gzip input — a regular file, a FIFO, a pipe (`/dev/fd/N`, process substitution) or standard
/// input — opened once and read once from start to end.
///
/// The first bytes are sniffed from the stream itself and kept: they are the start of the text (plain
/// input) or of the compressed data, which is inflated here with zlib (`inflate`, gzip wrapper), so nothing
/// is read twice and nothing is lost on a pipe. Concatenated gzip members are read to the end; after the
/// last member, zero bytes (padding) are skipped with a warning and any other byte is `trailingGzipData`.
/// A zip archive on a stream is refused (`zipNotRegularFile`): its directory is at the end. Memory is one
/// 256 KiB input buffer and zlib's window. Not thread-safe.
final class StreamInput: ByteInput {
    /// The name used in errors (the path, or `<stdin>`).
    let name: String
    private let descriptor: Int32
    /// Raw input: `raw[rawStart..<rawEnd]` is read from the descriptor but not yet used.
    private let raw: UnsafeMutableRawBufferPointer
    private var rawStart = 0
    private var rawEnd = 0
    private var endOfInput = false
    /// Bytes read from the descriptor (the stored size once the input is read to the end).
    private(set) var storedBytes: Int64 = 0
    /// True when the input is gzip (valid after the first read).
    private(set) var isCompressed = false
    private var decided = false
    /// The inflate state while gzip data remains; nil for plain input and after the last member.
    private var stream: UnsafeMutablePointer<z_stream>?

    static let bufferSize = 256 * 1024

    /// Opens `source` (a `.file` or `.standardInput`). A regular file is opened without blocking; a FIFO is
    /// opened (waiting for its writer, as any reader does) exactly once. Throws `missingPath`,
    /// `unreadable`, or `specialFile` for a device or socket.
    init(_ source: CorpusReader.Source) throws {
        name = source.description
        descriptor = try Self.open(source)
        raw = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferSize, alignment: 16)
    }

    deinit {
        endInflate()
        raw.deallocate()
        close(descriptor)
    }

    /// A descriptor open for reading `source`, as `init` describes.
    static func open(_ source: CorpusReader.Source) throws -> Int32 {
        switch source {
        case .standardInput:
            let descriptor = dup(0)
            guard descriptor >= 0 else {
                throw CorpusError.unreadable(path: source.description, reason: String(cString: strerror(errno)))
            }
            return descriptor
        case .file(let path):
            guard let kind = try FileKind.of(path: path) else { throw CorpusError.missingPath(path) }
            switch kind {
            case .regular:
                return try FileKind.openRegularFile(path)
            case .fifo:
                var descriptor: Int32
                repeat { descriptor = systemOpen(path, O_RDONLY | O_CLOEXEC) } while descriptor < 0 && errno == EINTR
                guard descriptor >= 0 else {
                    throw CorpusError.unreadable(path: path, reason: String(cString: strerror(errno)))
                }
                let opened = FileKind.of(descriptor: descriptor)
                guard let opened, opened.isReadableStream else {
                    close(descriptor)
                    throw CorpusError.specialFile(path: path, kind: (opened ?? .other).rawValue)
                }
                return descriptor
            case .directory:
                throw CorpusError.unreadable(path: path, reason: "is a directory")
            default:
                throw CorpusError.specialFile(path: path, kind: kind.rawValue)
            }
        case .zipMember(let archive, _):
            throw CorpusError.unreadable(path: archive, reason: "a zip member is not read as a stream")
        }
    }

    // MARK: Reading

    /// Fills `buffer` with up to `buffer.count` bytes of text (decompressed for gzip); 0 at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if buffer.count == 0 { return 0 }
        if !decided { try decide() }
        if isCompressed { return try inflate(into: buffer) }
        // Plain: the sniffed bytes first, then straight from the descriptor.
        var done = min(rawEnd - rawStart, buffer.count)
        if done > 0 {
            buffer.baseAddress!.copyMemory(from: raw.baseAddress! + rawStart, byteCount: done)
            rawStart += done
        }
        while done < buffer.count && !endOfInput {
            let got = try readDescriptor(into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]))
            if got == 0 { endOfInput = true }
            done += got
        }
        return done
    }

    /// Looks at the first bytes (keeping them) and picks plain or gzip.
    private func decide() throws {
        decided = true
        while rawEnd - rawStart < 4 && !endOfInput { _ = try fill() }
        let count = rawEnd - rawStart
        if count >= 4 && (0..<4).allSatisfy({ raw[rawStart + $0] == ZipArchive.magic[$0] }) {
            throw CorpusError.zipNotRegularFile(path: name)
        }
        if count >= 2 && raw[rawStart] == 0x1F && raw[rawStart + 1] == 0x8B {
            isCompressed = true
            let pointer = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            pointer.initialize(to: z_stream())
            // windowBits 15 + 16: one gzip member (header, deflate data, CRC-32 and ISIZE checked by zlib).
            let status = inflateInit2_(pointer, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
            guard status == Z_OK else {
                pointer.deinitialize(count: 1)
                pointer.deallocate()
                throw CorpusError.corruptGzip(path: name, offset: 0, reason: "zlib inflateInit2 failed (\(status))")
            }
            stream = pointer
        }
    }

    /// Compressed byte offset of the next raw byte not yet used.
    private var consumedOffset: Int64 { storedBytes - Int64(rawEnd - rawStart) }

    private func inflate(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let stream else { return 0 }
        stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = UInt32(min(buffer.count, Int(UInt32.max)))
        while stream.pointee.avail_out > 0 {
            if rawStart == rawEnd, try fill() == 0 {
                throw CorpusError.truncatedGzip(path: name, offset: storedBytes)
            }
            stream.pointee.next_in = (raw.baseAddress! + rawStart).assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_in = UInt32(rawEnd - rawStart)
            let status = CZlib.inflate(stream, Z_NO_FLUSH)
            rawStart = rawEnd - Int(stream.pointee.avail_in)
            switch status {
            case Z_STREAM_END:
                if try !startNextMember() {
                    let produced = buffer.count - Int(stream.pointee.avail_out)
                    endInflate()
                    return produced
                }
            case Z_OK:
                continue
            case Z_BUF_ERROR where stream.pointee.avail_in == 0:
                continue  // more input needed
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw CorpusError.corruptGzip(path: name, offset: consumedOffset, reason: message)
            }
        }
        return buffer.count
    }

    /// After a member's end: resets the stream and returns true when another member follows; returns false
    /// at the end of the input, after skipping zero padding (with a warning). Throws `trailingGzipData` for
    /// any other byte.
    private func startNextMember() throws -> Bool {
        while rawEnd - rawStart < 2 && !endOfInput { _ = try fill() }
        let count = rawEnd - rawStart
        if count == 0 { return false }
        if count >= 2 && raw[rawStart] == 0x1F && raw[rawStart + 1] == 0x8B {
            guard let stream, inflateReset(stream) == Z_OK else {
                throw CorpusError.corruptGzip(path: name, offset: consumedOffset, reason: "zlib inflateReset failed")
            }
            return true
        }
        let start = consumedOffset
        var padding: Int64 = 0
        repeat {
            if let nonzero = (rawStart..<rawEnd).first(where: { raw[$0] != 0 }) {
                throw CorpusError.trailingGzipData(path: name, offset: start + padding + Int64(nonzero - rawStart))
            }
            padding += Int64(rawEnd - rawStart)
            rawStart = rawEnd
        } while try fill() > 0
        CorpusWarnings.warn("\(name): \(padding) zero bytes after the last gzip member (padding) ignored")
        return false
    }

    private func endInflate() {
        guard let stream else { return }
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        self.stream = nil
    }

    /// Reads more raw bytes after `raw[rawEnd]`, first moving unused bytes to the front when the buffer is
    /// full. Returns the count, 0 at the end of the input.
    private func fill() throws -> Int {
        if rawStart == rawEnd {
            rawStart = 0
            rawEnd = 0
        } else if rawEnd == raw.count {
            let pending = rawEnd - rawStart
            raw.baseAddress!.copyMemory(from: raw.baseAddress! + rawStart, byteCount: pending)
            rawStart = 0
            rawEnd = pending
        }
        if endOfInput { return 0 }
        let got = try readDescriptor(into: UnsafeMutableRawBufferPointer(rebasing: raw[rawEnd...]))
        if got == 0 { endOfInput = true }
        rawEnd += got
        return got
    }

    /// One `read(2)`, retried on EINTR and waited for (poll) when the descriptor is non-blocking.
    private func readDescriptor(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let got = systemRead(descriptor, buffer.baseAddress, buffer.count)
            if got >= 0 {
                storedBytes += Int64(got)
                return got
            }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK {
                var waiting = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                _ = poll(&waiting, 1, -1)
                continue
            }
            throw CorpusError.unreadable(path: name, reason: String(cString: strerror(code)))
        }
    }
}

/// The C library's `read`, out of reach of the methods named `read` inside the classes above.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

/// The C library's `open`, out of reach of `StreamInput.open`.
private func systemOpen(_ path: String, _ flags: Int32) -> Int32 {
    open(path, flags)
}
