/// A problem reading or writing a checkpoint; `description` is one line naming the file.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    /// The file or directory does not exist.
    case missing(String)
    /// The file exists but its contents are invalid (path, what is wrong).
    case malformed(String, String)
    /// The checkpoint does not fit what it is loaded into (path, what differs).
    case mismatch(String, String)
    /// The checkpoint was written by an unsupported format version (path, found version).
    case unsupportedVersion(String, String)
    /// A file could not be written (path, reason).
    case cannotWrite(String, String)

    public var description: String {
        switch self {
        case .missing(let path): "\(path): no such checkpoint file or directory"
        case .malformed(let path, let problem): "\(path): \(problem)"
        case .mismatch(let path, let problem): "\(path): does not match: \(problem)"
        case .unsupportedVersion(let path, let version):
            "\(path): checkpoint format version \(version) is not supported by this charrnn"
        case .cannotWrite(let path, let reason): "\(path): cannot write: \(reason)"
        }
    }
}
