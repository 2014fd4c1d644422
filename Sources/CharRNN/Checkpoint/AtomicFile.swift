import Foundation
import TextCorpus
#if canImport(Glibc)
import Glibc
#endif

/// Writes files and directories so that a reader sees either the old complete version or the new
/// complete version, never a half-written one.
public enum AtomicFile {
    /// The kinds of temporary entry `AtomicFile` and `Checkpoint.write` leave beside a destination
    /// while they work (`.NAME.KIND-PID-UUID`); see `StaleFiles`.
    public static let temporaryKinds = ["tmp", "staging", "old"]

    /// Writes `data` to `url` through a temporary file in the same directory, flushed to disk and
    /// renamed over the destination; the directory is then flushed too. Errors name `url` and the
    /// system's reason (e.g. "No space left on device"); the temporary file is removed on failure.
    /// With `synchronize: false` nothing is flushed: for files in a private staging directory that
    /// is flushed whole (`synchronizeContents`) before it is swapped in.
    public static func write(_ data: Data, to url: URL, synchronize: Bool = true) throws {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(
            StaleFiles.temporaryName(for: url.lastPathComponent, kind: "tmp", unique: UUID().uuidString))
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw CheckpointError.cannotWrite(url.path, "cannot create a file in \(directory.path): \(lastErrorReason())")
        }
        do {
            defer { close(descriptor) }
            try data.withUnsafeBytes { try writeAll(descriptor, $0, path: url.path) }
            if synchronize, fsync(descriptor) != 0 { throw CheckpointError.cannotWrite(url.path, lastErrorReason()) }
        } catch {
            unlink(temporary.path)
            throw error
        }
        if rename(temporary.path, url.path) != 0 {
            let reason = lastErrorReason()
            unlink(temporary.path)
            throw CheckpointError.cannotWrite(url.path, reason)
        }
        if synchronize { synchronizeDirectory(directory) }
    }

    /// Flushes every file directly in `directory`, then the directory itself, to disk (one journal
    /// commit does most of the work, so this costs about one fsync). Errors name the file.
    public static func synchronizeContents(of directory: URL) throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names.sorted() {
            let path = directory.appendingPathComponent(name).path
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw CheckpointError.cannotWrite(path, lastErrorReason()) }
            defer { close(descriptor) }
            if fsync(descriptor) != 0 { throw CheckpointError.cannotWrite(path, lastErrorReason()) }
        }
        synchronizeDirectory(directory)
    }

    /// Writes all of `bytes` to `descriptor` (retrying short writes and EINTR); an error names `path`.
    public static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        guard var address = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let wrote = Glibc.write(descriptor, address, remaining)
            if wrote < 0 {
                if errno == EINTR { continue }
                throw CheckpointError.cannotWrite(path, lastErrorReason())
            }
            if wrote == 0 { throw CheckpointError.cannotWrite(path, "the device accepted no data") }
            address += wrote
            remaining -= wrote
        }
    }

    /// Flushes a directory's entries (a rename in it) to disk; best effort (some file systems refuse).
    public static func synchronizeDirectory(_ directory: URL) {
        let descriptor = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    /// `strerror(errno)`.
    static func lastErrorReason() -> String { String(cString: strerror(errno)) }

    /// Replaces the directory at `destination` with the complete directory `staged` (on the same
    /// file system). With an existing destination the two are exchanged atomically
    /// (`renameat2(RENAME_EXCHANGE)`) and the old one is deleted afterwards, so the destination
    /// always names a complete directory. The parent directory is flushed to disk after the swap.
    public static func replaceDirectory(at destination: URL, with staged: URL) throws {
        let fileManager = FileManager.default
        if !fileManager.fileExists(atPath: destination.path) {
            if rename(staged.path, destination.path) != 0 {
                throw CheckpointError.cannotWrite(destination.path, String(cString: strerror(errno)))
            }
            synchronizeDirectory(destination.deletingLastPathComponent())
            return
        }
        let result = exchangeEntries(staged.path, destination.path)
        if result != 0 {
            // File systems without RENAME_EXCHANGE: move the old one aside, then rename.
            let aside = destination.deletingLastPathComponent()
                .appendingPathComponent(StaleFiles.temporaryName(for: destination.lastPathComponent, kind: "old",
                                                                 unique: UUID().uuidString))
            guard rename(destination.path, aside.path) == 0, rename(staged.path, destination.path) == 0 else {
                throw CheckpointError.cannotWrite(destination.path, String(cString: strerror(errno)))
            }
            synchronizeDirectory(destination.deletingLastPathComponent())
            try? fileManager.removeItem(at: aside)
            return
        }
        synchronizeDirectory(destination.deletingLastPathComponent())
        try? fileManager.removeItem(at: staged)  // now holds the previous version
    }

    /// glibc's `renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)`, looked up at run time because
    /// Swift's Glibc module does not export it; -1 when unavailable or refused.
    private static func exchangeEntries(_ first: String, _ second: String) -> Int32 {
        typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return -1 }
        let renameat2 = unsafeBitCast(symbol, to: RenameAt2.self)
        let renameExchange: UInt32 = 1 << 1
        return renameat2(AT_FDCWD, first, AT_FDCWD, second, renameExchange)
    }
}
