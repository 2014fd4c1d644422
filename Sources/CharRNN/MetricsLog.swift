import Foundation

/// Appends `MetricsRecord`s to a run's `metrics.jsonl`, one line each, flushed per record so a
/// killed run loses nothing already logged.
public final class MetricsLog {
    public let url: URL
    private let handle: FileHandle

    /// Opens `url` for appending. With `keepingThrough: step`, first rewrites the file (atomically)
    /// keeping only the records of steps ≤ `step`: a resumed run continues the log exactly where its
    /// checkpoint was taken, dropping what an interrupted run logged after it.
    public init(url: URL, keepingThrough step: Int? = nil) throws {
        self.url = url
        let fileManager = FileManager.default
        if let step, fileManager.fileExists(atPath: url.path) {
            let text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
            let kept = try MetricsRecord.parseLines(text).filter { $0.step <= step }
            let lines = try kept.map { try $0.jsonLine() + "\n" }.joined()
            try AtomicFile.write(Data(lines.utf8), to: url)
        } else if step == nil || !fileManager.fileExists(atPath: url.path) {
            guard fileManager.createFile(atPath: url.path, contents: nil) else {
                throw CheckpointError.cannotWrite(url.path, "cannot create the metrics log")
            }
        }
        guard let handle = try? FileHandle(forWritingTo: url) else {
            throw CheckpointError.cannotWrite(url.path, "cannot open the metrics log")
        }
        self.handle = handle
        try handle.seekToEnd()
    }

    deinit { try? handle.close() }

    /// Appends one record.
    public func append(_ record: MetricsRecord) throws {
        try handle.write(contentsOf: Data((try record.jsonLine() + "\n").utf8))
    }
}
