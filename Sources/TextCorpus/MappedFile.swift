import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A whole file mapped read-only into memory (`mmap`, `MAP_SHARED`, `PROT_READ`), unmapped when the last
/// reference goes. Pages are read from the page cache on first touch, so processes mapping the same file
/// share one copy of it in physical memory (each process's RSS still counts the pages it touched).
///
/// The file must not be truncated while it is mapped (a read past its new end raises SIGBUS); the token
/// cache never does that: it replaces its files by `rename`, which leaves a mapped old file intact.
final class MappedFile: @unchecked Sendable {
    /// The first byte of the mapping (nil for an empty file, which is not mapped).
    let base: UnsafeRawPointer?
    /// Bytes mapped: the file's size when it was opened.
    let count: Int

    /// Maps the file open at `descriptor` (which may be closed afterwards). Throws `MappedFileError`.
    init(descriptor: Int32, path: String) throws {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw MappedFileError(path: path, reason: String(cString: strerror(errno))) }
        count = Int(status.st_size)
        guard count > 0 else { base = nil; return }
        guard let pointer = mmap(nil, count, PROT_READ, MAP_SHARED, descriptor, 0), pointer != MAP_FAILED else {
            throw MappedFileError(path: path, reason: String(cString: strerror(errno)))
        }
        base = UnsafeRawPointer(pointer)
    }

    /// The mapped bytes.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: base == nil ? 0 : count) }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }
}

/// A file could not be mapped.
struct MappedFileError: Error, CustomStringConvertible {
    let path: String
    let reason: String
    var description: String { "\(path): cannot map: \(reason)" }
}
