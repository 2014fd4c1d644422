import CZlib
import Foundation

/// A problem writing a gzip file.
public enum GzipWriterError: Error, Equatable, CustomStringConvertible {
    case cannotCreate(path: String, reason: String)
    case zlib(path: String, code: Int32)
    case io(path: String, reason: String)
    case finished(path: String)

    public var description: String {
        switch self {
        case .cannotCreate(let path, let reason): "cannot create \(path): \(reason)"
        case .zlib(let path, let code): "zlib error \(code) while compressing \(path)"
        case .io(let path, let reason): "cannot write \(path): \(reason)"
        case .finished(let path): "gzip writer for \(path) is already finished"
        }
    }
}

/// A streaming gzip (RFC 1952) writer: bytes are deflated as they arrive into a temporary file
/// beside the destination, which ``finish()`` renames into place, so readers never see a partial
/// file. If the writer is dropped without `finish()`, the temporary file is removed.
///
/// The output is deterministic: zlib's gzip header with modification time 0 and no file name,
/// compression level 6 (zlib's default), so the same input gives the same bytes on every run.
/// Not thread-safe; use from one task at a time.
public final class GzipWriter {
    /// The destination path.
    public let url: URL
    private let temporaryURL: URL
    private let handle: FileHandle
    private let stream: UnsafeMutablePointer<z_stream>
    private var output: [UInt8]
    private var done = false

    /// Size of the output chunk handed to the file, bytes.
    static let chunkSize = 1 << 16

    /// Opens a temporary file next to `url` and a deflate stream (`level` 0…9).
    public init(url: URL, level: Int32 = 6) throws {
        self.url = url
        // Temporary files of writers that were killed (their process is gone) are removed first.
        StaleFiles.removeStale(in: url.deletingLastPathComponent(), kinds: ["tmp"])
        temporaryURL = url.deletingLastPathComponent()
            .appendingPathComponent(StaleFiles.temporaryName(for: url.lastPathComponent, kind: "tmp", unique: UUID().uuidString))
        guard FileManager.default.createFile(atPath: temporaryURL.path, contents: nil) else {
            throw GzipWriterError.cannotCreate(path: url.path, reason: "cannot create a temporary file in its folder")
        }
        do { handle = try FileHandle(forWritingTo: temporaryURL) } catch {
            try? FileManager.default.removeItem(at: temporaryURL)
            throw GzipWriterError.cannotCreate(path: url.path, reason: SystemError.reason(error))
        }
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        output = [UInt8](repeating: 0, count: Self.chunkSize)
        // windowBits 15 + 16 asks zlib for a gzip wrapper instead of a zlib one.
        let status = deflateInit2_(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deinitialize(count: 1); stream.deallocate()
            try? handle.close()
            try? FileManager.default.removeItem(at: temporaryURL)
            throw GzipWriterError.zlib(path: url.path, code: status)
        }
    }

    deinit {
        if !done {
            deflateEnd(stream)
            try? handle.close()
            try? FileManager.default.removeItem(at: temporaryURL)
        }
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Compresses and writes `bytes`.
    public func write(_ bytes: some Sequence<UInt8>) throws {
        guard !done else { throw GzipWriterError.finished(path: url.path) }
        var input = Array(bytes)
        if input.isEmpty { return }
        try input.withUnsafeMutableBufferPointer { buffer in
            stream.pointee.next_in = buffer.baseAddress
            stream.pointee.avail_in = UInt32(buffer.count)
            try pump(flush: Z_NO_FLUSH)
            stream.pointee.next_in = nil
        }
    }

    /// Compresses and writes the UTF-8 bytes of `text`.
    public func write(_ text: String) throws {
        try write(text.utf8)
    }

    /// Flushes the deflate stream, closes the temporary file and renames it to ``url``
    /// (replacing any existing file).
    public func finish() throws {
        guard !done else { throw GzipWriterError.finished(path: url.path) }
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        try pump(flush: Z_FINISH)
        deflateEnd(stream)
        done = true
        do {
            try handle.synchronize()
            try handle.close()
            if rename(temporaryURL.path, url.path) != 0 {
                throw GzipWriterError.io(path: url.path, reason: String(cString: strerror(errno)))
            }
        } catch let error as GzipWriterError {
            try? FileManager.default.removeItem(at: temporaryURL)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporaryURL)
            throw GzipWriterError.io(path: url.path, reason: SystemError.reason(error))
        }
    }

    /// Runs deflate until it has consumed all input (or, with Z_FINISH, ended the stream).
    private func pump(flush: Int32) throws {
        while true {
            let status: Int32 = output.withUnsafeMutableBufferPointer { out in
                stream.pointee.next_out = out.baseAddress
                stream.pointee.avail_out = UInt32(out.count)
                return deflate(stream, flush)
            }
            guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                throw GzipWriterError.zlib(path: url.path, code: status)
            }
            let produced = output.count - Int(stream.pointee.avail_out)
            if produced > 0 {
                do { try handle.write(contentsOf: output[0..<produced]) } catch {
                    throw GzipWriterError.io(path: url.path, reason: SystemError.reason(error))
                }
            }
            if flush == Z_FINISH {
                if status == Z_STREAM_END { return }
            } else if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 {
                return
            }
        }
    }
}
