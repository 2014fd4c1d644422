// Scratch files for fuzz targets whose code under test reads a path rather than bytes.
import Foundation

/// A private scratch directory for this fuzzing process (in /dev/shm when it exists, so the
/// per-input file writes stay in memory), created on first use, reused for every input and removed at exit.
public enum ScratchFiles {
    public static let directory: URL = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let url = URL(fileURLWithPath: base).appendingPathComponent("charrnn-fuzz-\(getpid())")
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            fail("cannot create the scratch directory \(url.path): \(error)")
        }
        // Removed when libFuzzer exits normally (a crash leaves it for the replay).
        atexit { try? FileManager.default.removeItem(at: ScratchFiles.directory) }
        return url
    }()

    /// Writes `bytes` to `name` in the scratch directory (replacing it) and returns the file's URL.
    public static func write(_ bytes: UnsafeRawBufferPointer, named name: String) -> URL {
        let url = directory.appendingPathComponent(name)
        let data = bytes.count == 0 ? Data() : Data(bytes)
        do {
            try data.write(to: url)
        } catch {
            fail("cannot write \(url.path): \(error)")
        }
        return url
    }

    /// A problem of the fuzzing set-up (not of the code under test): one line on stderr, exit 2.
    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("fuzz: \(message)\n".utf8))
        exit(2)
    }

    /// The fuzz input as a raw buffer (empty when `size` is 0).
    public static func input(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: size == 0 ? nil : data.map(UnsafeRawPointer.init), count: size)
    }
}
