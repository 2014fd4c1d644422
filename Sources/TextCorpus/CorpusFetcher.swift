import Foundation

/// Fetches a catalog corpus into a directory: from a mirror directory (a plain copy) or by download with
/// `curl`. The file is written under a temporary name, its size and SHA-256 are checked, and only then is it
/// renamed into place; on a mismatch the temporary file is deleted and `checksumMismatch` is thrown.
public enum CorpusFetcher {
    /// Environment variable naming the default mirror directory.
    public static let mirrorVariable = "CHARRNN_CORPUS_MIRROR"

    /// What `fetch` did.
    public struct Result: Sendable, Equatable {
        /// The verified file.
        public var url: URL
        /// Its SHA-256.
        public var sha256: String
        /// False when a verified copy was already there.
        public var fetched: Bool
        /// "mirror DIR" or the URL.
        public var source: String
    }

    /// Fetches `entry` into `directory` (created if needed). `mirror` (or $CHARRNN_CORPUS_MIRROR when nil
    /// and `useEnvironment`) selects a local copy instead of the network. With `showProgress`, a download
    /// draws curl's progress bar on standard error (for a terminal).
    public static func fetch(
        _ entry: CorpusCatalog.Entry, into directory: URL, mirror: URL? = nil, useEnvironment: Bool = true,
        force: Bool = false, showProgress: Bool = false
    ) throws -> Result {
        let fileManager = FileManager.default
        var mirror = mirror
        if mirror == nil, useEnvironment, let value = ProcessInfo.processInfo.environment[mirrorVariable], !value.isEmpty {
            mirror = URL(fileURLWithPath: value)
        }
        do {
            try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw CorpusError.fetchFailed(source: directory.path, reason: "cannot create directory: \(SystemError.reason(error))")
        }
        let destination = directory.appendingPathComponent(entry.file)
        if !force, fileManager.fileExists(atPath: destination.path),
           let (size, hash) = try? digest(of: destination), size == entry.size, entry.sha256 == nil || hash == entry.sha256 {
            return Result(url: destination, sha256: hash, fetched: false, source: destination.path)
        }
        // Partial files of fetches that were killed (their process is gone) are removed first.
        StaleFiles.removeStale(in: directory, kinds: ["partial"])
        let temporary = directory.appendingPathComponent(StaleFiles.temporaryName(for: entry.file, kind: "partial"))
        try? fileManager.removeItem(at: temporary)
        let source: String
        if let mirror {
            let file = mirror.appendingPathComponent(entry.mirrorFile)
            source = file.path
            guard fileManager.fileExists(atPath: file.path) else {
                throw CorpusError.fetchFailed(source: file.path, reason: "\(entry.name) is not in the mirror directory \(mirror.path)")
            }
            do {
                try fileManager.copyItem(at: file, to: temporary)
            } catch {
                try? fileManager.removeItem(at: temporary)
                throw CorpusError.fetchFailed(source: file.path, reason: "copy failed: \(SystemError.reason(error))")
            }
        } else {
            source = entry.url
            try download(entry.url, to: temporary, showProgress: showProgress)
        }
        let (size, hash): (Int64, String)
        do {
            (size, hash) = try digest(of: temporary)
        } catch {
            try? fileManager.removeItem(at: temporary)
            throw error
        }
        if let expected = entry.sha256, hash != expected {
            try? fileManager.removeItem(at: temporary)
            throw CorpusError.checksumMismatch(path: source, expected: expected, actual: hash)
        }
        if size != entry.size {
            try? fileManager.removeItem(at: temporary)
            throw CorpusError.fetchFailed(source: source, reason: "size \(size) bytes, expected \(entry.size); file removed")
        }
        guard rename(temporary.path, destination.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? fileManager.removeItem(at: temporary)
            throw CorpusError.fetchFailed(source: destination.path, reason: "rename failed: \(reason)")
        }
        return Result(url: destination, sha256: hash, fetched: true, source: source)
    }

    /// Size and SHA-256 of a file, read in 1 MiB chunks.
    public static func digest(of url: URL) throws -> (size: Int64, sha256: String) {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw CorpusError.unreadable(path: url.path, reason: "cannot open")
        }
        defer { try? handle.close() }
        var hash = SHA256()
        var size: Int64 = 0
        while true {
            let data: Data
            do { data = try handle.read(upToCount: 1 << 20) ?? Data() } catch {
                throw CorpusError.unreadable(path: url.path, reason: SystemError.reason(error))
            }
            if data.isEmpty { break }
            size += Int64(data.count)
            data.withUnsafeBytes { hash.update($0.bindMemory(to: UInt8.self)) }
        }
        return (size, hash.finalizeHex())
    }

    private static func download(_ url: String, to file: URL, showProgress: Bool) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // With a progress bar curl writes to our standard error itself (its error message included);
        // otherwise its error message is captured for the one-line error.
        process.arguments = ["curl", "--fail", showProgress ? "--progress-bar" : "--silent", "--show-error", "--location",
                             "--retry", "2", "--connect-timeout", "20", "--output", file.path, url]
        let errors = Pipe()
        if !showProgress { process.standardError = errors }
        do { try process.run() } catch {
            throw CorpusError.fetchFailed(source: url, reason: "cannot run curl (install it: apt-get install curl): \(error.localizedDescription)")
        }
        let message = showProgress ? "" : String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            try? FileManager.default.removeItem(at: file)
            let line = message.split(whereSeparator: \.isNewline).last.map(String.init) ?? "curl exit status \(process.terminationStatus)"
            throw CorpusError.fetchFailed(source: url, reason: "download failed: \(line)")
        }
    }
}
