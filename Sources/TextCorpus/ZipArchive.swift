import Foundation

/// The table of contents of a zip archive, read from its central directory (member data is not read).
///
/// Handles zip64 (the zip64 end-of-central-directory record and the zip64 extra field of each entry) and
/// archives whose members carry data descriptors (the sizes and CRC-32 come from the central directory,
/// which always holds them). Multi-disk archives are rejected. Member names are decoded as UTF-8 (ill-formed
/// bytes, as in old CP437 names, become U+FFFD).
public struct ZipArchive: Sendable {
    /// One central-directory entry.
    public struct Member: Sendable, Equatable {
        /// The name as stored (a path with `/` separators; directories end with `/`).
        public var name: String
        /// Compression method: 0 stored, 8 deflated (others are not supported for reading).
        public var method: UInt16
        /// General-purpose flags (bit 0: encrypted; bit 3: sizes in a data descriptor).
        public var flags: UInt16
        /// CRC-32 of the uncompressed data, from the central directory.
        public var crc32: UInt32
        /// Bytes of member data in the archive.
        public var compressedSize: UInt64
        /// Declared bytes after decompression (checked while reading, never trusted for allocation).
        public var uncompressedSize: UInt64
        /// Byte offset of the member's local header in the archive.
        public var localHeaderOffset: UInt64

        /// True for directory entries (names ending in `/`).
        public var isDirectory: Bool { name.hasSuffix("/") }
        /// True when the member is encrypted (traditional or strong encryption).
        public var isEncrypted: Bool { flags & 0x0001 != 0 || flags & 0x0040 != 0 }
    }

    /// The archive's path.
    public let path: String
    /// The entries in central-directory (archive) order.
    public let members: [Member]

    /// The first four bytes of a zip archive that starts with a member (local file header signature).
    public static let magic: [UInt8] = [0x50, 0x4B, 0x03, 0x04]

    /// True when `path` is a regular file that starts with the zip local-header magic `PK\x03\x04`.
    /// Anything else (a FIFO, a device) is never opened for reading: false.
    public static func isZip(path: String) -> Bool {
        guard let descriptor = try? FileKind.openRegularFile(path) else { return false }
        defer { close(descriptor) }
        var head = [UInt8](repeating: 0, count: 4)
        let got = head.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, 4, 0) }
        return got == 4 && head == magic
    }

    /// Reads the central directory of the archive at `path`.
    /// Throws `unreadable`, `zipNotRegularFile` when `path` is a FIFO, pipe or device (a zip archive is read
    /// from its end), or `corruptZip` for a truncated or malformed archive.
    public init(path: String) throws {
        self.path = path
        let file = try ZipFile(path: path)
        members = try Self.readCentralDirectory(file)
    }

    /// The member called `name` (a file, not a directory); the first one, with a warning, when several
    /// have that name. Throws `missingZipMember` listing some names.
    public func member(named name: String) throws -> Member {
        let matching = members.filter { $0.name == name && !$0.isDirectory }
        if let member = matching.first {
            if matching.count > 1 {
                CorpusWarnings.warn("\(path): \(matching.count) members are named '\(name)'; the first is read")
            }
            return member
        }
        let available = members.filter { !$0.isDirectory }.map(\.name)
        throw CorpusError.missingZipMember(archive: path, member: name, available: available)
    }

    // MARK: Central directory

    private static let endSignature: UInt32 = 0x0605_4B50
    private static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    private static let zip64EndSignature: UInt32 = 0x0606_4B50
    private static let centralSignature: UInt32 = 0x0201_4B50

    private static func readCentralDirectory(_ file: ZipFile) throws -> [Member] {
        let size = file.size
        guard size >= 22 else { throw file.corrupt("truncated (\(size) bytes, no end of central directory)") }
        // The end record is 22 bytes plus a comment of at most 65,535 bytes, at the very end.
        let tailLength = min(size, 22 + 65_535)
        let tail = try file.read(at: size - tailLength, count: Int(tailLength))
        var endIndex: Int?
        var k = tail.count - 22
        while k >= 0 {
            if ZipBytes.u32(tail, k) == endSignature {
                let commentLength = Int(ZipBytes.u16(tail, k + 20))
                if k + 22 + commentLength <= tail.count { endIndex = k; break }
            }
            k -= 1
        }
        guard let endIndex else {
            throw file.corrupt("no end of central directory record (truncated archive?)")
        }
        let endOffset = size - tailLength + UInt64(endIndex)
        let trailing = tail.count - (endIndex + 22 + Int(ZipBytes.u16(tail, endIndex + 20)))
        if trailing > 0 {
            CorpusWarnings.warn("\(file.path): \(trailing) bytes after the end of the zip archive (its end record) ignored")
        }
        var disk = UInt32(ZipBytes.u16(tail, endIndex + 4))
        var directoryDisk = UInt32(ZipBytes.u16(tail, endIndex + 6))
        var entries = UInt64(ZipBytes.u16(tail, endIndex + 10))
        var directorySize = UInt64(ZipBytes.u32(tail, endIndex + 12))
        var directoryOffset = UInt64(ZipBytes.u32(tail, endIndex + 16))

        if entries == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF,
           endOffset >= 20 {
            let locator = try file.read(at: endOffset - 20, count: 20)
            if ZipBytes.u32(locator, 0) == zip64LocatorSignature {
                let recordOffset = ZipBytes.u64(locator, 8)
                guard recordOffset <= endOffset, endOffset - recordOffset >= 56 else {
                    throw file.corrupt("zip64 end of central directory offset \(recordOffset) is out of range")
                }
                let record = try file.read(at: recordOffset, count: 56)
                guard ZipBytes.u32(record, 0) == zip64EndSignature else {
                    throw file.corrupt("no zip64 end of central directory record at offset \(recordOffset)")
                }
                disk = ZipBytes.u32(record, 16)
                directoryDisk = ZipBytes.u32(record, 20)
                entries = ZipBytes.u64(record, 32)
                directorySize = ZipBytes.u64(record, 40)
                directoryOffset = ZipBytes.u64(record, 48)
            }
        }
        guard disk == 0 && directoryDisk == 0 else {
            throw CorpusError.unsupportedZip(path: file.path, reason: "multi-disk (split) archives are not supported")
        }
        guard directoryOffset <= size, directorySize <= size - directoryOffset else {
            throw file.corrupt("truncated (the central directory at offset \(directoryOffset), \(directorySize) bytes, lies beyond the end of the file at \(size) bytes)")
        }
        // Each entry takes at least 46 bytes: a count beyond that is a lie, not an allocation size.
        guard entries <= directorySize / 46 else {
            throw file.corrupt("\(entries) entries declared in a central directory of \(directorySize) bytes")
        }
        let directory = try file.read(at: directoryOffset, count: Int(directorySize))
        var members: [Member] = []
        members.reserveCapacity(Int(entries))
        var at = 0
        for index in 0..<Int(entries) {
            guard at + 46 <= directory.count, ZipBytes.u32(directory, at) == centralSignature else {
                throw file.corrupt("central directory entry \(index + 1) of \(entries) is malformed")
            }
            let flags = ZipBytes.u16(directory, at + 8)
            let method = ZipBytes.u16(directory, at + 10)
            let crc = ZipBytes.u32(directory, at + 16)
            var compressed = UInt64(ZipBytes.u32(directory, at + 20))
            var uncompressed = UInt64(ZipBytes.u32(directory, at + 24))
            let nameLength = Int(ZipBytes.u16(directory, at + 28))
            let extraLength = Int(ZipBytes.u16(directory, at + 30))
            let commentLength = Int(ZipBytes.u16(directory, at + 32))
            var startDisk = UInt32(ZipBytes.u16(directory, at + 34))
            var offset = UInt64(ZipBytes.u32(directory, at + 42))
            let end = at + 46 + nameLength + extraLength + commentLength
            guard end <= directory.count else {
                throw file.corrupt("central directory entry \(index + 1) of \(entries) runs past the directory")
            }
            let nameBytes = directory[(at + 46)..<(at + 46 + nameLength)]
            let name = String(decoding: nameBytes, as: UTF8.self)
            // Zip64 extended information: the 64-bit values of the fields that hold all ones, in order.
            var extra = at + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = ZipBytes.u16(directory, extra)
                let length = Int(ZipBytes.u16(directory, extra + 2))
                let body = extra + 4
                guard body + length <= extraEnd else { break }
                if id == 0x0001 {
                    var field = body
                    func next64() throws -> UInt64 {
                        guard field + 8 <= body + length else {
                            throw file.corrupt("member \(name): zip64 extra field too short")
                        }
                        defer { field += 8 }
                        return ZipBytes.u64(directory, field)
                    }
                    if uncompressed == 0xFFFF_FFFF { uncompressed = try next64() }
                    if compressed == 0xFFFF_FFFF { compressed = try next64() }
                    if offset == 0xFFFF_FFFF { offset = try next64() }
                    if startDisk == 0xFFFF, field + 4 <= body + length {
                        startDisk = ZipBytes.u32(directory, field)
                    }
                }
                extra = body + length
            }
            guard compressed <= size, offset < size else {
                throw file.corrupt("member \(name): its data (offset \(offset), \(compressed) bytes) lies beyond the end of the file at \(size) bytes")
            }
            guard startDisk == 0 else {
                throw CorpusError.unsupportedZip(path: file.path, reason: "member \(name) starts on disk \(startDisk) (multi-disk archive)")
            }
            members.append(Member(name: name, method: method, flags: flags, crc32: crc, compressedSize: compressed,
                                  uncompressedSize: uncompressed, localHeaderOffset: offset))
            at = end
        }
        return members
    }
}

/// Little-endian field reads from a byte array (bounds are checked by the callers).
enum ZipBytes {
    static func u16(_ bytes: [UInt8], _ at: Int) -> UInt16 {
        UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
    }

    static func u32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(u16(bytes, at)) | UInt32(u16(bytes, at + 2)) << 16
    }

    static func u64(_ bytes: [UInt8], _ at: Int) -> UInt64 {
        UInt64(u32(bytes, at)) | UInt64(u32(bytes, at + 4)) << 32
    }
}

/// A read-only file descriptor with positioned reads that fail on a short read.
final class ZipFile {
    let path: String
    let descriptor: Int32
    let size: UInt64

    init(path: String) throws {
        self.path = path
        guard let kind = try FileKind.of(path: path) else { throw CorpusError.missingPath(path) }
        guard kind == .regular else {
            if kind == .directory { throw CorpusError.unreadable(path: path, reason: "is a directory") }
            throw CorpusError.zipNotRegularFile(path: path)
        }
        do {
            descriptor = try FileKind.openRegularFile(path)
        } catch CorpusError.specialFile {
            throw CorpusError.zipNotRegularFile(path: path)
        }
        let end = lseek(descriptor, 0, SEEK_END)
        guard end >= 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw CorpusError.unreadable(path: path, reason: reason)
        }
        size = UInt64(end)
    }

    deinit { close(descriptor) }

    /// A `corruptZip` error for this archive.
    func corrupt(_ reason: String) -> CorpusError { .corruptZip(path: path, reason: reason) }

    /// Exactly `count` bytes at `offset`; throws `corruptZip` ("truncated") when the file ends first.
    func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = try bytes.withUnsafeMutableBytes { try read(at: offset, into: $0) }
        guard got == count else {
            throw corrupt("truncated (needed \(count) bytes at offset \(offset), the file has \(size))")
        }
        return bytes
    }

    /// Up to `buffer.count` bytes at `offset` (fewer only at the end of the file).
    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        // Offsets come from the archive: one past the end reads nothing (and never overflows off_t).
        guard offset < size else { return 0 }
        var done = 0
        while done < buffer.count {
            let got = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if got < 0 {
                if errno == EINTR { continue }
                throw CorpusError.unreadable(path: path, reason: String(cString: strerror(errno)))
            }
            if got == 0 { break }
            done += got
        }
        return done
    }
}
