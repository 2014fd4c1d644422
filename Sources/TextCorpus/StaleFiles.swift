import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Names and clean-up of the temporary files and directories a writer puts beside its destination
/// (`.NAME.KIND-PID-…`, e.g. `.latest.staging-4711-1F2E…`, `.tiny.txt.partial-4711`) so that a
/// process killed mid-write leaves debris the next start can recognise and remove.
///
/// The owning process id is part of the name: an entry is stale when that process no longer
/// exists (`kill(pid, 0)` fails with ESRCH), so a concurrent writer's files are never touched.
public enum StaleFiles {
    /// The name of a temporary entry beside `name`, owned by this process:
    /// `.NAME.KIND-PID` or, with a `unique` suffix, `.NAME.KIND-PID-UNIQUE`.
    public static func temporaryName(for name: String, kind: String, unique: String? = nil) -> String {
        ".\(name).\(kind)-\(getpid())" + (unique.map { "-\($0)" } ?? "")
    }

    /// Whether `name` is a temporary entry of one of `kinds` (`matched`), and its owning process id
    /// (`pid`; nil for the form without one that older versions wrote: `.NAME.KIND-UUID`).
    static func owner(of name: String, kinds: [String]) -> (pid: pid_t?, matched: Bool) {
        guard name.hasPrefix(".") else { return (nil, false) }
        for kind in kinds {
            guard let range = name.range(of: ".\(kind)-", options: .backwards), range.lowerBound > name.startIndex
            else { continue }
            let rest = name[range.upperBound...]
            let digits = rest.prefix(while: \.isASCII).prefix(while: \.isNumber)
            let afterDigits = rest.dropFirst(digits.count)
            if !digits.isEmpty, afterDigits.isEmpty || afterDigits.hasPrefix("-"), let pid = pid_t(digits), pid > 0 {
                return (pid, true)
            }
            return (nil, true)
        }
        return (nil, false)
    }

    /// True when process `pid` exists (it may belong to another user).
    public static func isAlive(_ pid: pid_t) -> Bool {
        if pid == getpid() { return true }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// Removes the entries of `directory` that are temporary entries of one of `kinds` whose owning
    /// process is gone; with `includeOwnerless`, also those without a process id in the name (for a
    /// caller that holds the directory's lock, so no one else can be writing there). Returns the
    /// names removed. Never throws: an entry that cannot be removed is left.
    @discardableResult
    public static func removeStale(in directory: URL, kinds: [String], includeOwnerless: Bool = false) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        var removed: [String] = []
        for name in names.sorted() {
            let (pid, matched) = owner(of: name, kinds: kinds)
            guard matched else { continue }
            if let pid {
                if isAlive(pid) { continue }
            } else if !includeOwnerless {
                continue
            }
            if (try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))) != nil {
                removed.append(name)
            }
        }
        return removed
    }
}
