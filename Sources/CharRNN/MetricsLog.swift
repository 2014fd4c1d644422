import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Appends `MetricsRecord`s to a run's `metrics.jsonl`, one line each, written with one `write(2)`
/// per record so a killed run loses nothing already logged. Every write is checked: a failure
/// throws `CheckpointError.cannotWrite` naming the file and the system's reason ("No space left
/// on device"), and the partial line it may have left is cut off again.
public final class MetricsLog {
    public let url: URL
    private let descriptor: Int32
    /// Problems found and repaired when the log was opened (a torn final record dropped), one line
    /// each, for the caller to show as warnings.
    public let warnings: [String]

    /// Opens `url` for appending. With `keepingThrough: step`, first rewrites the file (atomically)
    /// keeping only the records of steps ≤ `step`: a resumed run continues the log exactly where its
    /// checkpoint was taken, dropping what an interrupted run logged after it. A final line that is
    /// not a whole record (the run was killed, or the disk filled, while appending it) is dropped
    /// with a warning; a malformed line before the last one is an error naming the file and line.
    /// Without `keepingThrough`, a new empty log replaces any previous one.
    public init(url: URL, keepingThrough step: Int? = nil) throws {
        self.url = url
        var warnings: [String] = []
        let fileManager = FileManager.default
        if let step, fileManager.fileExists(atPath: url.path) {
            let data: Data
            do { data = try Data(contentsOf: url) } catch {
                throw CheckpointError.malformed(url.path, "cannot read the metrics log")
            }
            let (records, torn) = try Self.parse(String(decoding: data, as: UTF8.self), path: url.path)
            if let torn {
                warnings.append("\(url.path): line \(torn) is a torn record (the run was interrupted while writing it); dropped")
            }
            let lines = try records.filter { $0.step <= step }.map { try $0.jsonLine() + "\n" }.joined()
            try AtomicFile.write(Data(lines.utf8), to: url)
        }
        let flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (step == nil ? O_TRUNC : 0)
        let descriptor = open(url.path, flags, 0o644)
        guard descriptor >= 0 else {
            throw CheckpointError.cannotWrite(url.path, AtomicFile.lastErrorReason())
        }
        self.descriptor = descriptor
        self.warnings = warnings
    }

    deinit { close(descriptor) }

    /// The records of a metrics log's text, and the 1-based number of a final line that is not a
    /// whole record (nil when there is none). Any other malformed line throws.
    static func parse(_ text: String, path: String) throws -> (records: [MetricsRecord], tornLine: Int?) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        while lines.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { lines.removeLast() }
        do {
            return (try MetricsRecord.parseLines(lines.joined(separator: "\n")), nil)
        } catch MetricsError.malformedLine(let line) where line == lines.count {
            do {
                return (try MetricsRecord.parseLines(lines.dropLast().joined(separator: "\n")), line)
            } catch {
                throw CheckpointError.malformed(path, "\(error)")
            }
        } catch {
            throw CheckpointError.malformed(path, "\(error)")
        }
    }

    /// Appends one record. On a failed write the file is cut back to its length before the record,
    /// so it never ends in half a line.
    public func append(_ record: MetricsRecord) throws {
        let line = Data((try record.jsonLine() + "\n").utf8)
        let before = lseek(descriptor, 0, SEEK_END)
        do {
            try line.withUnsafeBytes { try AtomicFile.writeAll(descriptor, $0, path: url.path) }
        } catch {
            if before >= 0 { _ = ftruncate(descriptor, before) }
            throw error
        }
    }
}
