import Foundation
import NeuralNet
import Tensor
import TextCorpus

/// A checkpoint directory:
///
///     model.safetensors          weights only, PyTorch names; metadata format/format_version;
///                                written as F32, read from F32, F16, BF16 (exact) or F64 (rounded)
///     config.json                `RunConfiguration`
///     vocab.json                 the vocabulary, units in id order
///     trainer-state.json         `TrainerState` (optional: present in training checkpoints)
///     trainer-state.safetensors  optimizer moments and carried hidden state (with the above)
///
/// `write` builds the directory beside its destination and swaps it in whole, so a reader never
/// sees a mix of two checkpoints. `load` validates every file against the others.
public struct Checkpoint {
    public var configuration: RunConfiguration
    public var vocabulary: Vocabulary
    public var model: LanguageModel<Float>

    public init(configuration: RunConfiguration, vocabulary: Vocabulary, model: LanguageModel<Float>) {
        self.configuration = configuration; self.vocabulary = vocabulary; self.model = model
    }

    public static let modelFile = "model.safetensors"
    public static let configFile = "config.json"
    public static let vocabularyFile = "vocab.json"
    public static let stateFile = "trainer-state.json"
    public static let stateTensorsFile = "trainer-state.safetensors"

    /// The weights as safetensors, in parameter registration order.
    public static func weights(of model: LanguageModel<Float>) -> SafetensorsFile {
        let parameters = model.parameters
        let tensors = parameters.layout.slots.map { slot in
            SafetensorsTensor(name: slot.name, shape: slot.shape, floats: UnsafeBufferPointer(parameters.values(slot)))
        }
        return SafetensorsFile(tensors: tensors, metadata: ["format": "charrnn",
                                                            "format_version": "\(RunConfiguration.currentFormatVersion)"])
    }

    /// Writes this checkpoint (and, for training checkpoints, the trainer state) to `directory`,
    /// replacing any previous one there atomically.
    public func write(to directory: URL, trainerState: (TrainerState, TrainerTensors)? = nil) throws {
        let parent = directory.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError.cannotWrite(parent.path, "cannot create the directory")
        }
        // Staging directories of saves that were killed (their process is gone) are removed first.
        StaleFiles.removeStale(in: parent, kinds: AtomicFile.temporaryKinds)
        let staging = parent.appendingPathComponent(
            StaleFiles.temporaryName(for: directory.lastPathComponent, kind: "staging", unique: UUID().uuidString))
        do {
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: false)
        } catch {
            throw CheckpointError.cannotWrite(parent.path, "cannot create a directory there")
        }
        do {
            // Files are flushed together once all are written: one journal commit, not one per file.
            try AtomicFile.write(Self.weights(of: model).serialized(), to: staging.appendingPathComponent(Self.modelFile),
                                 synchronize: false)
            try AtomicFile.write(try configuration.jsonData(), to: staging.appendingPathComponent(Self.configFile),
                                 synchronize: false)
            try AtomicFile.write(try vocabulary.jsonData(), to: staging.appendingPathComponent(Self.vocabularyFile),
                                 synchronize: false)
            if let (state, tensors) = trainerState {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                encoder.nonConformingFloatEncodingStrategy = .convertToString(
                    positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
                try AtomicFile.write(try encoder.encode(state), to: staging.appendingPathComponent(Self.stateFile),
                                     synchronize: false)
                try AtomicFile.write(tensors.safetensors().serialized(),
                                     to: staging.appendingPathComponent(Self.stateTensorsFile), synchronize: false)
            }
            try AtomicFile.synchronizeContents(of: staging)
            try AtomicFile.replaceDirectory(at: directory, with: staging)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw error
        }
    }

    /// Loads and validates the checkpoint in `directory` (a run directory resolves to its latest/).
    public static func load(from path: String) throws -> Checkpoint {
        let directory = try RunDirectory.resolveCheckpoint(path)
        let configuration = try RunConfiguration.load(from: directory.appendingPathComponent(configFile))
        let vocabularyURL = directory.appendingPathComponent(vocabularyFile)
        guard FileManager.default.fileExists(atPath: vocabularyURL.path) else { throw CheckpointError.missing(vocabularyURL.path) }
        let vocabulary = try Vocabulary.load(from: vocabularyURL)
        guard vocabulary.count == configuration.model.vocabularySize else {
            throw CheckpointError.mismatch(vocabularyURL.path,
                                           "\(vocabulary.count) units but the model has vocabularySize \(configuration.model.vocabularySize)")
        }
        guard vocabulary.tokenizer == configuration.tokenizer else {
            throw CheckpointError.mismatch(vocabularyURL.path, "tokenizer settings differ from config.json")
        }
        let modelURL = directory.appendingPathComponent(modelFile)
        let weights = try SafetensorsFile.read(from: modelURL)
        if let version = weights.metadata["format_version"], version != "\(RunConfiguration.currentFormatVersion)" {
            throw CheckpointError.unsupportedVersion(modelURL.path, version)
        }
        let parameters = try Self.parameters(from: weights, layout: LanguageModel<Float>.layout(for: configuration.model),
                                             path: modelURL.path)
        let model = LanguageModel<Float>(config: configuration.model, parameters: parameters)
        return Checkpoint(configuration: configuration, vocabulary: vocabulary, model: model)
    }

    /// The parameters of `layout` from `weights` (the file at `path`): every slot's tensor must be
    /// present, of a floating-point dtype (F16/BF16 convert exactly, F64 to the nearest f32) and of
    /// the slot's shape, and no other tensor may be present. Errors name the tensor and both shapes.
    static func parameters(from weights: SafetensorsFile, layout: ParameterLayout, path: String) throws -> ParameterSet<Float> {
        let expected = Set(layout.slots.map(\.name)), found = Set(weights.tensors.map(\.name))
        if let extra = found.subtracting(expected).sorted().first {
            throw CheckpointError.mismatch(path, "unexpected tensor \(extra)")
        }
        let parameters = ParameterSet<Float>(layout: layout)
        for slot in layout.slots {
            guard let tensor = weights.tensor(slot.name) else {
                throw CheckpointError.mismatch(path, "missing tensor \(slot.name)")
            }
            guard tensor.dtype.isFloatingPoint else {
                throw CheckpointError.mismatch(path,
                                               "tensor \(slot.name) has dtype \(tensor.dtype.rawValue); weights must be F32, F16, BF16 or F64")
            }
            guard tensor.shape == slot.shape else {
                throw CheckpointError.mismatch(path, "\(slot.name) has shape \(tensor.shape), expected \(slot.shape)")
            }
            if let index = tensor.firstElementBeyondFloat {
                throw CheckpointError.mismatch(path, "tensor \(slot.name): F64 element \(index) is beyond the range of F32")
            }
            tensor.copyFloats(into: parameters.values(slot))
            try requireFinite(UnsafeBufferPointer(parameters.values(slot)), tensor: slot.name, path: path)
        }
        return parameters
    }

    /// Throws `CheckpointError.malformed` naming `tensor` (in the file at `path`) and its first element
    /// that is NaN or ±inf: such a weight or state poisons every value computed from it (a model that
    /// draws only `<unk>`, a loss of NaN), so it is refused at load time instead.
    static func requireFinite(_ values: UnsafeBufferPointer<Float>, tensor: String, path: String) throws {
        guard let index = values.firstIndex(where: { !$0.isFinite }) else { return }
        throw CheckpointError.malformed(path, "tensor \(tensor): element \(index) is \(values[index]); every value must be finite (the file is damaged or the run diverged)")
    }

    /// `requireFinite` on every tensor of a trainer state loaded from `path`.
    static func requireFinite(_ tensors: TrainerTensors, path: String) throws {
        for name in tensors.optimizerBuffers.keys.sorted() {
            try tensors.optimizerBuffers[name, default: []].withUnsafeBufferPointer {
                try requireFinite($0, tensor: "optimizer.\(name)", path: path)
            }
        }
        let carried = tensors.carried
        for k in 0..<carried.layers {
            try requireFinite(UnsafeBufferPointer(carried.h[k].pointer), tensor: "state.h_l\(k)", path: path)
            if carried.hasCell {
                try requireFinite(UnsafeBufferPointer(carried.c[k].pointer), tensor: "state.c_l\(k)", path: path)
            }
        }
    }

    /// Loads the trainer state stored with the checkpoint at `path` (for `--resume`).
    public static func loadTrainerState(from path: String, model: ModelConfig, batchSize: Int) throws
        -> (TrainerState, TrainerTensors) {
        let directory = try RunDirectory.resolveCheckpoint(path)
        let stateURL = directory.appendingPathComponent(stateFile)
        guard let data = FileManager.default.contents(atPath: stateURL.path) else { throw CheckpointError.missing(stateURL.path) }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let state: TrainerState
        do {
            state = try decoder.decode(TrainerState.self, from: data)
        } catch {
            throw CheckpointError.malformed(stateURL.path, "invalid trainer state (\(RunConfiguration.decodingProblem(error)))")
        }
        let tensorsURL = directory.appendingPathComponent(stateTensorsFile)
        let tensors = try TrainerTensors.load(try SafetensorsFile.read(from: tensorsURL), path: tensorsURL.path,
                                              model: model, batchSize: batchSize, bufferNames: state.optimizer.bufferNames)
        try requireFinite(tensors, path: tensorsURL.path)
        return (state, tensors)
    }
}
