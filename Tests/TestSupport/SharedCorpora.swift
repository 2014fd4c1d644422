import Foundation

/// Locates `../shared/corpora` (beside the project root) for tests that use the real corpora.
/// Tests call `SharedCorpora.url(...)` and skip cleanly when it returns nil.
public enum SharedCorpora {
    /// The project root, derived from this file's path.
    public static let projectRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared/corpora`, or `$CHARRNN_CORPUS_MIRROR` when set; nil when the folder is absent.
    public static var directory: URL? {
        let candidate: URL
        if let mirror = ProcessInfo.processInfo.environment["CHARRNN_CORPUS_MIRROR"], !mirror.isEmpty {
            candidate = URL(fileURLWithPath: mirror)
        } else {
            candidate = projectRoot.deletingLastPathComponent().appendingPathComponent("shared/corpora")
        }
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory)
            && isDirectory.boolValue ? candidate : nil
    }

    /// The file at `relativePath` inside the shared corpora, or nil when it is absent.
    public static func url(_ relativePath: String) -> URL? {
        guard let directory else { return nil }
        let url = directory.appendingPathComponent(relativePath)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// A fresh temporary directory for one test.
    public static func temporaryDirectory(_ label: String = "charrnn-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
