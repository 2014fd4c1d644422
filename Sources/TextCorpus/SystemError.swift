import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The system's own words for a failed file operation, for one-line errors that name the file:
/// "No space left on device", "Permission denied", rather than Foundation's wrapped messages.
public enum SystemError {
    /// `strerror` of the POSIX error code found in `error` (itself, or an underlying error, or the
    /// code a Foundation file error stands for); otherwise `error`'s localized description.
    public static func reason(_ error: any Error) -> String {
        if let code = posixCode(error as NSError, depth: 0) { return String(cString: strerror(code)) }
        return error.localizedDescription
    }

    private static func posixCode(_ error: NSError, depth: Int) -> Int32? {
        if error.domain == NSPOSIXErrorDomain { return Int32(error.code) }
        if depth < 4, let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError,
           let code = posixCode(underlying, depth: depth + 1) { return code }
        guard error.domain == NSCocoaErrorDomain else { return nil }
        switch CocoaError.Code(rawValue: error.code) {
        case .fileWriteOutOfSpace: return ENOSPC
        case .fileWriteNoPermission, .fileReadNoPermission: return EACCES
        case .fileWriteVolumeReadOnly: return EROFS
        case .fileNoSuchFile, .fileReadNoSuchFile: return ENOENT
        case .fileWriteFileExists: return EEXIST
        default: return nil
        }
    }
}
