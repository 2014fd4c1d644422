import Foundation

/// Reads a small text input whole, opening it once: a regular file, a FIFO or a pipe (`/dev/fd/N`).
///
/// For inputs such as `--prime-file` that are taken as they are (no gzip, no zip). A directory is
/// `unreadable` ("is a directory"), a device or socket `specialFile`, a missing path `missingPath`.
public enum TextFile {
    /// The bytes of the file at `path`, read to its end.
    public static func contents(ofPath path: String) throws -> [UInt8] {
        let descriptor = try StreamInput.open(.file(path))
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let got = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw CorpusError.unreadable(path: path, reason: String(cString: strerror(errno)))
            }
            if got == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<got])
        }
    }
}
