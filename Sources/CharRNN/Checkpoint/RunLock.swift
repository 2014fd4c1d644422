import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a run directory, held for as long as this object lives: a `flock` on the
/// file `RUN/.lock`, which also records the holder's process id. The kernel releases the lock when
/// the process ends, however it ends, so a killed run never leaves a stale lock behind.
public final class RunLock {
    /// The locked run directory.
    public let run: RunDirectory
    private let descriptor: Int32
    /// The directories taking the lock created (the run directory and missing parents, innermost
    /// first): removed again on release if nothing but the lock file was put in them, so a command
    /// that failed leaves no empty run directory behind.
    private let createdDirectories: [URL]

    /// Creates the run directory if needed and takes its lock without waiting. Throws
    /// `RunDirectoryError.busy` when another process holds it, `CheckpointError.cannotWrite` when the
    /// directory or lock file cannot be created.
    public init(_ run: RunDirectory) throws {
        self.run = run
        var missing: [URL] = []
        var folder = run.url.standardizedFileURL
        while !FileManager.default.fileExists(atPath: folder.path), folder.path != "/" {
            missing.append(folder)
            folder = folder.deletingLastPathComponent()
        }
        do {
            try FileManager.default.createDirectory(at: run.url, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError.cannotWrite(run.url.path, "cannot create the output directory")
        }
        let path = run.lockFile.path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw CheckpointError.cannotWrite(path, AtomicFile.lastErrorReason()) }
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            let busy = errno == EWOULDBLOCK
            let reason = AtomicFile.lastErrorReason()
            let holder = Self.recordedHolder(descriptor)
            close(descriptor)
            if busy { throw RunDirectoryError.busy(run.url.path, pid: holder) }
            throw CheckpointError.cannotWrite(path, "cannot lock: \(reason)")
        }
        // Record the holder (for the message another process shows); best effort.
        let text = Array("\(getpid())\n".utf8)
        if ftruncate(descriptor, 0) == 0 { _ = text.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) } }
        self.descriptor = descriptor
        self.createdDirectories = missing
    }

    deinit {
        if !createdDirectories.isEmpty, (try? FileManager.default.contentsOfDirectory(atPath: run.url.path)) == [".lock"] {
            unlink(run.lockFile.path)
            for directory in createdDirectories where rmdir(directory.path) != 0 { break }
        }
        _ = flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// The process id written in the lock file by its holder, if readable.
    private static func recordedHolder(_ descriptor: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int32(String(decoding: buffer[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
