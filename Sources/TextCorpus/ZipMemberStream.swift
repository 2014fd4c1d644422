import CZlib
import Foundation

/// Streams the decompressed bytes of one zip member: stored (method 0) or deflated (method 8, zlib raw
/// inflate). Memory is one input buffer and zlib's window, whatever the member's size.
///
/// The declared sizes are checks, never allocation sizes: reading stops with `corruptZip` as soon as the
/// member inflates past its declared uncompressed size (a zip bomb), and at the end the byte count and the
/// CRC-32 must equal the central directory's. Not thread-safe.
public final class ZipMemberStream {
    /// The member being read.
    public let member: ZipArchive.Member
    /// `archive:member`, the name used in errors.
    public let name: String
    private let file: ZipFile
    private var stream: UnsafeMutablePointer<z_stream>?
    /// Compressed input (deflated members only); zlib reads from it between calls.
    private var input: UnsafeMutableRawBufferPointer?
    /// Archive offset of the next compressed byte, and compressed bytes not yet read.
    private var nextOffset: UInt64 = 0
    private var remainingInput: UInt64
    private var produced: UInt64 = 0
    private var crc: UInt32 = 0
    private var finished = false

    /// Bytes of compressed input read per file read.
    static let inputChunk = 256 * 1024

    /// Opens `member` of the archive at `archivePath`. Throws `unsupportedZipMember` for encryption or a
    /// method other than 0 and 8, `corruptZip` when the local header is missing or truncated.
    public init(archivePath: String, member: ZipArchive.Member) throws {
        self.member = member
        name = "\(archivePath):\(member.name)"
        if member.isEncrypted {
            throw CorpusError.unsupportedZipMember(name: name, reason: "encrypted members are not supported")
        }
        guard member.method == 0 || member.method == 8 else {
            let known: [UInt16: String] = [12: "bzip2", 14: "LZMA", 93: "Zstandard", 95: "xz", 9: "deflate64"]
            let label = known[member.method].map { " (\($0))" } ?? ""
            throw CorpusError.unsupportedZipMember(
                name: name, reason: "compression method \(member.method)\(label) is not supported (only stored and deflated)")
        }
        file = try ZipFile(path: archivePath)
        let header = try file.read(at: member.localHeaderOffset, count: 30)
        guard ZipBytes.u32(header, 0) == 0x0403_4B50 else {
            throw CorpusError.corruptZip(path: archivePath, reason: "member \(member.name): no local header at offset \(member.localHeaderOffset)")
        }
        let nameLength = UInt64(ZipBytes.u16(header, 26)), extraLength = UInt64(ZipBytes.u16(header, 28))
        nextOffset = member.localHeaderOffset + 30 + nameLength + extraLength
        remainingInput = member.compressedSize
        guard nextOffset <= file.size, remainingInput <= file.size - nextOffset else {
            throw CorpusError.corruptZip(
                path: archivePath,
                reason: "truncated (member \(member.name) needs \(member.compressedSize) bytes at offset \(nextOffset), the file has \(file.size))")
        }
        if member.method == 8 {
            input = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.inputChunk, alignment: 16)
            let pointer = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            pointer.initialize(to: z_stream())
            // Negative windowBits: raw deflate data, no zlib header or trailer.
            let status = inflateInit2_(pointer, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
            guard status == Z_OK else {
                pointer.deinitialize(count: 1); pointer.deallocate()
                throw CorpusError.corruptZip(path: archivePath, reason: "zlib inflateInit2 failed (\(status))")
            }
            stream = pointer
        }
    }

    deinit {
        input?.deallocate()
        if let stream {
            inflateEnd(stream)
            stream.deinitialize(count: 1)
            stream.deallocate()
        }
    }

    /// Fills `buffer` with up to `buffer.count` decompressed bytes; returns 0 at the end of the member, after
    /// checking its size and CRC-32. Throws `corruptZip` for truncated or invalid data, a size beyond the
    /// declared one, or a CRC mismatch.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if finished || buffer.count == 0 { return 0 }
        let got = member.method == 0 ? try readStored(into: buffer) : try inflate(into: buffer)
        if got > 0 {
            produced += UInt64(got)
            if produced > member.uncompressedSize {
                throw corrupt("inflates past its declared size of \(member.uncompressedSize) bytes (zip bomb?)")
            }
            crc = UInt32(truncatingIfNeeded: crc32(UInt(crc), buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt32(got)))
            return got
        }
        finished = true
        guard produced == member.uncompressedSize else {
            throw corrupt("ends after \(produced) bytes, \(member.uncompressedSize) declared")
        }
        guard crc == member.crc32 else {
            throw corrupt("CRC-32 mismatch (computed \(Self.hex(crc)), the archive says \(Self.hex(member.crc32)))")
        }
        return 0
    }

    private func corrupt(_ reason: String) -> CorpusError {
        .corruptZip(path: file.path, reason: "member \(member.name) \(reason)")
    }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    private func readStored(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let want = Int(min(UInt64(buffer.count), remainingInput))
        if want == 0 { return 0 }
        let got = try file.read(at: nextOffset, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
        guard got == want else { throw corrupt("is truncated at archive offset \(nextOffset + UInt64(got))") }
        nextOffset += UInt64(got)
        remainingInput -= UInt64(got)
        return got
    }

    private func inflate(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let stream, let input else { return 0 }
        stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = UInt32(min(buffer.count, Int(UInt32.max)))
        while stream.pointee.avail_out > 0 {
            if stream.pointee.avail_in == 0 && remainingInput > 0 {
                let want = Int(min(UInt64(input.count), remainingInput))
                let got = try file.read(at: nextOffset, into: UnsafeMutableRawBufferPointer(rebasing: input[0..<want]))
                guard got == want else { throw corrupt("is truncated at archive offset \(nextOffset + UInt64(got))") }
                nextOffset += UInt64(got)
                remainingInput -= UInt64(got)
                stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_in = UInt32(got)
            }
            let status = CZlib.inflate(stream, Z_NO_FLUSH)
            if status == Z_STREAM_END {
                let got = buffer.count - Int(stream.pointee.avail_out)
                inflateEnd(stream)
                stream.deinitialize(count: 1)
                stream.deallocate()
                self.stream = nil
                return got
            }
            if status == Z_OK || status == Z_BUF_ERROR {
                // No progress possible: the compressed data ended before the deflate stream did.
                if stream.pointee.avail_out > 0 && stream.pointee.avail_in == 0 && remainingInput == 0 {
                    throw corrupt("deflate data ends early (truncated member)")
                }
                if status == Z_BUF_ERROR && stream.pointee.avail_in > 0 {
                    throw corrupt("has invalid deflate data (no progress)")
                }
            } else {
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw corrupt("has invalid deflate data (\(message))")
            }
        }
        return buffer.count
    }
}
