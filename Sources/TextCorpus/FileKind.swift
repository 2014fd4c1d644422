import Foundation

/// The kind of file system object a path names, from `stat` (symbolic links followed).
///
/// Corpus inputs are told apart by kind before anything is opened: regular files may be opened more than
/// once (to sniff, to read the end of a zip archive); pipes and FIFOs are opened exactly once, when they are
/// read; devices and sockets are refused, since reading them either never ends or means nothing as a corpus.
public enum FileKind: String, Sendable, Equatable {
    case regular = "regular file"
    case directory
    /// A named FIFO, or a pipe reached through `/dev/fd/N` (process substitution).
    case fifo = "FIFO"
    case characterDevice = "character device"
    case blockDevice = "block device"
    case socket
    case other = "special file"

    /// The kind encoded in the file-type bits of a `st_mode` (POSIX values, the same on Linux and Darwin).
    init(mode: UInt32) {
        switch mode & 0o170000 {
        case 0o100000: self = .regular
        case 0o040000: self = .directory
        case 0o010000: self = .fifo
        case 0o020000: self = .characterDevice
        case 0o060000: self = .blockDevice
        case 0o140000: self = .socket
        default: self = .other
        }
    }

    /// The kind of the object at `path`, following symbolic links; nil when nothing is there (or the link
    /// dangles). Throws `unreadable` when `stat` fails otherwise (a parent directory without search
    /// permission, a loop of links).
    static func of(path: String) throws -> FileKind? {
        var info = stat()
        if stat(path, &info) == 0 { return FileKind(mode: UInt32(info.st_mode)) }
        let code = errno
        if code == ENOENT || code == ENOTDIR { return nil }
        throw CorpusError.unreadable(path: path, reason: String(cString: strerror(code)))
    }

    /// The kind of an open descriptor (`fstat`), or nil when `fstat` fails.
    static func of(descriptor: Int32) -> FileKind? {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        return FileKind(mode: UInt32(info.st_mode))
    }

    /// True for the kinds read as a stream of bytes: regular files, FIFOs and pipes.
    var isReadableStream: Bool { self == .regular || self == .fifo }

    /// Opens the regular file at `path` for reading without ever blocking: `O_NONBLOCK` keeps `open` from
    /// waiting for a writer if the path was swapped for a FIFO since it was examined, and `fstat` checks
    /// the kind of what was opened. Throws `unreadable` or `specialFile`.
    static func openRegularFile(_ path: String) throws -> Int32 {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw CorpusError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        let kind = of(descriptor: descriptor)
        guard kind == .regular else {
            close(descriptor)
            if kind == .directory { throw CorpusError.unreadable(path: path, reason: "is a directory") }
            throw CorpusError.specialFile(path: path, kind: (kind ?? .other).rawValue)
        }
        // Regular files never block; clear the flag anyway so reads behave as usual.
        let flags = fcntl(descriptor, F_GETFL)
        if flags >= 0 { _ = fcntl(descriptor, F_SETFL, flags & ~O_NONBLOCK) }
        return descriptor
    }
}
