import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes files and directories so that a reader sees either the old complete version or the new
/// complete version, never a half-written one.
public enum AtomicFile {
    /// Writes `data` to `url` through a temporary file in the same directory, flushed to disk and
    /// renamed over the destination.
    public static func write(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw CheckpointError.cannotWrite(url.path, "cannot create a file in \(directory.path)")
        }
        do {
            let handle = try FileHandle(forWritingTo: temporary)
            defer { try? handle.close() }
            try handle.write(contentsOf: data)
            try handle.synchronize()
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw CheckpointError.cannotWrite(url.path, "write failed")
        }
        if rename(temporary.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw CheckpointError.cannotWrite(url.path, reason)
        }
    }

    /// Replaces the directory at `destination` with the complete directory `staged` (on the same
    /// file system). With an existing destination the two are exchanged atomically
    /// (`renameat2(RENAME_EXCHANGE)`) and the old one is deleted afterwards, so the destination
    /// always names a complete directory.
    public static func replaceDirectory(at destination: URL, with staged: URL) throws {
        let fileManager = FileManager.default
        if !fileManager.fileExists(atPath: destination.path) {
            if rename(staged.path, destination.path) != 0 {
                throw CheckpointError.cannotWrite(destination.path, String(cString: strerror(errno)))
            }
            return
        }
        let result = exchangeEntries(staged.path, destination.path)
        if result != 0 {
            // File systems without RENAME_EXCHANGE: move the old one aside, then rename.
            let aside = destination.deletingLastPathComponent()
                .appendingPathComponent(".\(destination.lastPathComponent).old-\(UUID().uuidString)")
            guard rename(destination.path, aside.path) == 0, rename(staged.path, destination.path) == 0 else {
                throw CheckpointError.cannotWrite(destination.path, String(cString: strerror(errno)))
            }
            try? fileManager.removeItem(at: aside)
            return
        }
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
