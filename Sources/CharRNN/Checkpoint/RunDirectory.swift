import Foundation
import TextCorpus

/// The files of a training run's output directory.
///
///     RUN/
///       metrics.jsonl      one MetricsRecord per logged step or evaluation (append-only)
///       config.json        the run's configuration (a copy of latest/config.json, for reports)
///       latest/            the checkpoint to resume from, replaced whole at every save
///       best/              the checkpoint with the lowest validation loss so far
///       .lock              locked (flock) by the process training into the directory (`RunLock`)
///
/// DESIGN.md keeps the latest checkpoint's files directly in RUN/. A set of several files cannot
/// be replaced atomically in place, so the latest checkpoint lives in its own directory that is
/// swapped whole (`AtomicFile.replaceDirectory`): a run killed mid-save keeps its previous
/// checkpoint intact. Commands that take a CHECKPOINT accept RUN/ and resolve it to RUN/latest/.
public struct RunDirectory: Sendable {
    public let url: URL

    public init(_ url: URL) { self.url = url }

    public var metrics: URL { url.appendingPathComponent("metrics.jsonl") }
    public var config: URL { url.appendingPathComponent("config.json") }
    public var latest: URL { url.appendingPathComponent("latest") }
    public var best: URL { url.appendingPathComponent("best") }
    public var lockFile: URL { url.appendingPathComponent(".lock") }

    /// True when the directory holds a run (its metrics.jsonl or latest/).
    public var holdsRun: Bool {
        FileManager.default.fileExists(atPath: metrics.path) || FileManager.default.fileExists(atPath: latest.path)
    }

    /// Removes the files of the run in this directory (metrics.jsonl, config.json, latest/, best/),
    /// for a new run that replaces it; call it only while holding the directory's `RunLock`.
    public func removeRun() throws {
        for file in [metrics, config, latest, best] where FileManager.default.fileExists(atPath: file.path) {
            do { try FileManager.default.removeItem(at: file) } catch {
                throw CheckpointError.cannotWrite(file.path, "cannot remove the previous run's file")
            }
        }
    }

    /// Removes what interrupted writes left here (`.latest.staging-*`, `.best.staging-*`,
    /// `.config.json.tmp-*`, …): entries whose owning process is gone, and, since the caller holds the
    /// run's lock so no one else writes here, those from versions that did not record a process.
    /// Returns the names removed.
    @discardableResult
    public func removeDebris() -> [String] {
        StaleFiles.removeStale(in: url, kinds: AtomicFile.temporaryKinds, includeOwnerless: true)
    }

    /// The checkpoint directory a user means by `path`: the directory itself when it holds
    /// `model.safetensors`, else its `latest/` when that does.
    public static func resolveCheckpoint(_ path: String) throws -> URL {
        let url = URL(fileURLWithPath: path)
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        guard fileManager.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw CheckpointError.missing(path)
        }
        guard isDirectory.boolValue else {
            throw CheckpointError.malformed(path, "is a file; a checkpoint is a directory holding model.safetensors")
        }
        if fileManager.fileExists(atPath: url.appendingPathComponent("model.safetensors").path) { return url }
        let latest = url.appendingPathComponent("latest")
        if fileManager.fileExists(atPath: latest.appendingPathComponent("model.safetensors").path) { return latest }
        throw CheckpointError.malformed(path, "no model.safetensors here or in latest/: not a checkpoint")
    }
}

/// A run directory that cannot be used for a new run as asked; `description` is one line naming it.
public enum RunDirectoryError: Error, Equatable, CustomStringConvertible {
    /// Another process holds the directory's lock (its process id, when recorded).
    case busy(String, pid: Int32?)
    /// The directory already holds a run, and the new run was not told to replace it.
    case holdsRun(String)

    public var description: String {
        switch self {
        case .busy(let path, let pid):
            "\(path): another charrnn run\(pid.map { " (process \($0))" } ?? "") is training into this directory"
        case .holdsRun(let path):
            "\(path) already holds a run; use --resume to continue it or --force to start over"
        }
    }
}
