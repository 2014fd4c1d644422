import Foundation

/// The files of a training run's output directory.
///
///     RUN/
///       metrics.jsonl      one MetricsRecord per logged step or evaluation (append-only)
///       config.json        the run's configuration (a copy of latest/config.json, for reports)
///       latest/            the checkpoint to resume from, replaced whole at every save
///       best/              the checkpoint with the lowest validation loss so far
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
