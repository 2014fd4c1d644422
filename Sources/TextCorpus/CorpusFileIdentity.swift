import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A corpus input file as the token cache remembers it: where it is, what `stat` says about it, and the
/// SHA-256 of its bytes as stored (the same digest `sha256sum FILE` prints; for a zip member, its archive's).
///
/// Two identities are the same file, unchanged, when path, device, inode, size, modification and status
/// change times all agree (`sameStat`); the content hash decides when they do not.
struct CorpusFileIdentity: Codable, Equatable, Sendable {
    /// Absolute path, symbolic links resolved.
    var path: String
    var device: UInt64
    var inode: UInt64
    /// Bytes as stored.
    var size: Int64
    /// Modification time, nanoseconds since 1970.
    var modified: Int64
    /// Status change time (which `touch -d` cannot set back), nanoseconds since 1970.
    var changed: Int64
    /// SHA-256 of the bytes, hex; empty until hashed.
    var sha256: String = ""

    /// The identity of the regular file at `path` now (not hashed); nil when it cannot be examined.
    init?(path: String) {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        var status = stat()
        guard stat(resolved, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        self.path = String(cString: resolved)
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
        size = Int64(status.st_size)
        modified = Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec)
        changed = Int64(status.st_ctim.tv_sec) * 1_000_000_000 + Int64(status.st_ctim.tv_nsec)
    }

    /// Same path and `stat` fields (the content hash is not compared).
    func sameStat(as other: CorpusFileIdentity) -> Bool {
        path == other.path && device == other.device && inode == other.inode && size == other.size
            && modified == other.modified && changed == other.changed
    }

    /// The SHA-256 of the file's bytes, hex; nil when it cannot be read.
    static func sha256(path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var hash = SHA256()
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let got = read(descriptor, buffer.baseAddress, chunk)
            if got < 0 && errno == EINTR { continue }
            if got < 0 { return nil }
            if got == 0 { break }
            hash.update(UnsafeBufferPointer(start: buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), count: got))
        }
        return hash.finalizeHex()
    }
}
