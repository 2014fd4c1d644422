import CZlib
import Foundation

extension ZipArchive {
    /// One member written by `unpack`.
    public struct UnpackedMember: Sendable, Equatable {
        /// The plain file.
        public var url: URL
        /// Its size in bytes.
        public var size: UInt64
        /// False when a file with the member's size and CRC-32 was already there.
        public var written: Bool
    }

    /// Writes every file member (directories are created, not listed) under `directory`, keeping the
    /// member's relative path. Each file is streamed into a temporary file beside its destination and renamed
    /// into place only after its size and CRC-32 check out, so no half-written file is ever visible; on an error
    /// the temporary file is removed. A file already present with the member's size and CRC-32 is kept unless
    /// `force`. Throws `unsafeZipMemberName` (absolute names or `..`), `unsupportedZipMember`, `corruptZip`,
    /// or `fetchFailed` for a file-system failure; all names are checked before anything is written.
    public func unpack(into directory: URL, force: Bool = false) throws -> [UnpackedMember] {
        for member in members {
            let components = member.name.split(separator: "/", omittingEmptySubsequences: false)
            if member.name.hasPrefix("/") || components.contains("..") || member.name.contains("\\") || member.name.isEmpty {
                throw CorpusError.unsafeZipMemberName(archive: path, member: member.name)
            }
        }
        let fileManager = FileManager.default
        var unpacked: [UnpackedMember] = []
        for member in members {
            let destination = directory.appendingPathComponent(member.name)
            let folder = member.isDirectory ? destination : destination.deletingLastPathComponent()
            do {
                try fileManager.createDirectory(at: folder, withIntermediateDirectories: true)
            } catch {
                throw CorpusError.fetchFailed(source: folder.path, reason: "cannot create directory: \(SystemError.reason(error))")
            }
            if member.isDirectory { continue }
            if !force, let existing = try? Self.sizeAndCRC(of: destination),
               existing.size == member.uncompressedSize, existing.crc == member.crc32 {
                unpacked.append(UnpackedMember(url: destination, size: member.uncompressedSize, written: false))
                continue
            }
            let stream = try ZipMemberStream(archivePath: path, member: member)
            StaleFiles.removeStale(in: folder, kinds: ["partial"])  // left by an unpack that was killed
            let temporary = folder.appendingPathComponent(StaleFiles.temporaryName(for: destination.lastPathComponent, kind: "partial"))
            let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard descriptor >= 0 else {
                throw CorpusError.fetchFailed(source: temporary.path, reason: "cannot create: \(String(cString: strerror(errno)))")
            }
            var closed = false
            do {
                defer { if !closed { close(descriptor) } }
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
                defer { buffer.deallocate() }
                while true {
                    let got = try stream.read(into: buffer)
                    if got == 0 { break }
                    var done = 0
                    while done < got {
                        let wrote = write(descriptor, buffer.baseAddress! + done, got - done)
                        if wrote < 0 {
                            if errno == EINTR { continue }
                            throw CorpusError.fetchFailed(source: destination.path, reason: "write failed: \(String(cString: strerror(errno)))")
                        }
                        done += wrote
                    }
                }
                closed = true
                guard close(descriptor) == 0 else {
                    throw CorpusError.fetchFailed(source: destination.path, reason: "write failed: \(String(cString: strerror(errno)))")
                }
                guard rename(temporary.path, destination.path) == 0 else {
                    throw CorpusError.fetchFailed(source: destination.path, reason: "rename failed: \(String(cString: strerror(errno)))")
                }
            } catch {
                try? fileManager.removeItem(at: temporary)
                throw error
            }
            unpacked.append(UnpackedMember(url: destination, size: member.uncompressedSize, written: true))
        }
        return unpacked
    }

    /// Size and CRC-32 of a file, read in 1 MiB chunks.
    static func sizeAndCRC(of url: URL) throws -> (size: UInt64, crc: UInt32) {
        let file = try ZipFile(path: url.path)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var crc: UInt = 0
        var offset: UInt64 = 0
        while true {
            let got = try file.read(at: offset, into: buffer)
            if got == 0 { break }
            crc = crc32(crc, buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt32(got))
            offset += UInt64(got)
        }
        return (offset, UInt32(truncatingIfNeeded: crc))
    }
}
