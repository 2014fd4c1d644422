import Foundation

/// Where the corpus reader reports input it reads but finds suspect (zero padding after a gzip stream, a
/// FIFO or socket skipped in a directory, bytes after a zip archive's end record).
///
/// Each warning is one line that names the file and the problem. By default it is written to standard
/// error as `<program>: warning: <message>`, `<program>` being the executable's name; a program or a test
/// may install its own handler. A message is reported once per process, however often the same input is
/// resolved (a command may resolve its paths more than once). Thread-safe.
public enum CorpusWarnings {
    /// A function that receives one warning line (without a trailing newline).
    public typealias Handler = @Sendable (String) -> Void

    private final class Box: @unchecked Sendable {
        let lock = NSLock()
        var handler: Handler = CorpusWarnings.standardError
        var reported: Set<String> = []
    }

    private static let box = Box()

    /// The default handler: `<program>: warning: <message>` on standard error.
    public static let standardError: Handler = { message in
        let program = CommandLine.arguments.first.map { ($0 as NSString).lastPathComponent } ?? "charrnn"
        FileHandle.standardError.write(Data("\(program): warning: \(message)\n".utf8))
    }

    /// Installs `handler` for all later warnings and returns the one it replaces.
    @discardableResult
    public static func setHandler(_ handler: @escaping Handler) -> Handler {
        box.lock.lock()
        defer { box.lock.unlock() }
        let previous = box.handler
        box.handler = handler
        return previous
    }

    /// Reports `message` to the current handler, unless it was reported before.
    static func warn(_ message: String) {
        box.lock.lock()
        let handler = box.handler
        // The set is bounded: past 10,000 distinct messages repeats are reported again.
        if box.reported.count >= 10_000 { box.reported.removeAll() }
        let isNew = box.reported.insert(message).inserted
        box.lock.unlock()
        if isNew { handler(message) }
    }
}
