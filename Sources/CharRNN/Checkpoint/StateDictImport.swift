import Foundation
import NeuralNet
import Tensor
import TextCorpus

/// Builds a charrnn `Checkpoint` from a PyTorch word_language_model state dict saved as
/// safetensors (`charrnn import`).
///
/// The state dict is that of `RNNModel` (model.py): `encoder.weight` V×E (nn.Embedding),
/// `rnn.weight_ih_l{k}` G·H×In, `rnn.weight_hh_l{k}` G·H×H, `rnn.bias_ih_l{k}`, `rnn.bias_hh_l{k}`
/// G·H (nn.LSTM/GRU/RNN, k = 0…L−1), `decoder.weight` V×H and `decoder.bias` V (nn.Linear).
/// The architecture is inferred from the shapes: E from `encoder.weight`, H from the columns of
/// `rnn.weight_hh_l0`, the cell from its rows (4H LSTM, 3H GRU, H RNN), L from the layer count.
/// PyTorch's gate blocks are stacked in the order charrnn uses (LSTM i, f, g, o; GRU r, z, n, with
/// r applied to W_hn h + b_hn), so the matrices are taken as they are. Tied weights saved once
/// (`decoder.weight` or `encoder.weight` absent) are completed from the other (see `untied`); the
/// checkpoint stores the two as separate copies.
///
/// Vocabulary: `units[i]` is the unit of PyTorch id i. charrnn reserves id 0 for `<unk>`: a unit
/// spelled `<unk>` moves to id 0 (the others keep their order after it); without one, id 0 is
/// added with a zero embedding, a zero decoder row and decoder bias `unknownBias`, so it gets
/// probability 0 (exp(−10⁴) underflows) and every other logit is PyTorch's.
///
/// A file written by `charrnn export` (see `WeightExport`) carries its configuration and
/// vocabulary; `checkpoint(fromExport:path:)` rebuilds the checkpoint from it bit for bit.
public enum StateDictImport {
    /// Decoder bias of an added `<unk>` row.
    public static let unknownBias: Float = -10_000

    /// Units in PyTorch id order, read from a vocabulary file.
    public struct Units: Sendable, Equatable {
        public var units: [String]
        /// The file they came from (named in errors).
        public var path: String

        public init(units: [String], path: String) { self.units = units; self.path = path }

        /// Reads a vocabulary file: a JSON array of strings, element i the unit of id i
        /// (e.g. `["\n", " ", "!", …]`; UTF-8). Units must be non-empty and distinct.
        public static func read(from url: URL) throws -> Units {
            let path = url.path
            guard FileManager.default.fileExists(atPath: path) else { throw CorpusError.missingPath(path) }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CorpusError.unreadable(path: path, reason: "cannot read the file")
            }
            guard let array = try? JSONSerialization.jsonObject(with: data) as? [Any] else {
                throw CorpusError.malformedVocabulary(path: path, reason: "not a JSON array of strings (the unit of id 0, 1, …)")
            }
            var units: [String] = []
            for (index, item) in array.enumerated() {
                guard let unit = item as? String else {
                    throw CorpusError.malformedVocabulary(path: path, reason: "element \(index) is not a string")
                }
                units.append(unit)
            }
            return Units(units: units, path: path)
        }
    }

    /// The architecture of `stateDict` (the file at `path`) as charrnn's `ModelConfig` with PyTorch's
    /// vocabulary size (skip `.none`, no dropout). `cell`, when given, must agree with the shapes.
    public static func inferConfig(of stateDict: SafetensorsFile, path: String, cell requested: CellKind? = nil) throws -> ModelConfig {
        func mismatch(_ problem: String) -> CheckpointError { .mismatch(path, problem) }
        func matrix(_ name: String) throws -> (rows: Int, columns: Int) {
            guard let tensor = stateDict.tensor(name) else { throw mismatch("missing tensor \(name)") }
            guard tensor.shape.count == 2 else { throw mismatch("\(name) has shape \(tensor.shape), expected 2 dimensions") }
            return (tensor.shape[0], tensor.shape[1])
        }
        let encoder = try matrix("encoder.weight")
        let recurrent = try matrix("rnn.weight_hh_l0")
        let hidden = recurrent.columns
        let kinds: [Int: CellKind] = [4: .lstm, 3: .gru, 1: .rnn]
        guard hidden > 0, recurrent.rows % hidden == 0, let cell = kinds[recurrent.rows / hidden] else {
            throw mismatch("rnn.weight_hh_l0 has shape [\(recurrent.rows), \(hidden)]: its rows are not 4, 3 or 1 × its "
                           + "\(hidden) columns (LSTM, GRU, RNN)")
        }
        if let requested, requested != cell {
            throw mismatch("rnn.weight_hh_l0 has shape [\(recurrent.rows), \(hidden)] (\(recurrent.rows / hidden)×\(hidden) rows: "
                           + "\(cell.rawValue.uppercased())), but cell \(requested.rawValue.uppercased()) was asked for")
        }
        var layers = 0
        while stateDict.tensor("rnn.weight_ih_l\(layers)") != nil { layers += 1 }
        guard layers > 0 else { throw mismatch("missing tensor rnn.weight_ih_l0") }
        return ModelConfig(vocabularySize: encoder.rows, embeddingSize: encoder.columns, hiddenSize: hidden,
                           layers: layers, cell: cell, initialization: InitializationOptions(encoderDecoder: .wordLM))
    }

    /// The checkpoint of PyTorch state dict `stateDict` (the file at `path`) with vocabulary `units`,
    /// whose text is cut by `tokenizer`. Every shape is checked (errors name the tensor, the expected
    /// and the found shape); unknown tensors are refused.
    public static func checkpoint(fromStateDict stateDict: SafetensorsFile, path: String, units: Units,
                                  cell: CellKind? = nil, tokenizer: TokenizerOptions) throws -> Checkpoint {
        let tensors = try untied(stateDict, path: path)
        let source = try inferConfig(of: tensors, path: path, cell: cell)
        let v = source.vocabularySize
        guard units.units.count == v else {
            throw CheckpointError.mismatch(units.path, "\(units.units.count) units, but encoder.weight in \(path) has \(v) rows")
        }
        var firstIndex: [String: Int] = [:]
        for (index, unit) in units.units.enumerated() {
            if unit.isEmpty { throw CorpusError.malformedVocabulary(path: units.path, reason: "element \(index) is empty") }
            // Distinct by UTF-8 bytes, as charrnn's vocabulary compares units.
            let key = unit.utf8.map { String($0, radix: 16) }.joined(separator: ".")
            if let earlier = firstIndex[key] {
                throw CorpusError.malformedVocabulary(path: units.path,
                                                      reason: "element \(index) \(unit.debugDescription) repeats element \(earlier)")
            }
            firstIndex[key] = index
        }
        let imported = try Checkpoint.parameters(from: tensors, layout: LanguageModel<Float>.layout(for: source), path: path)

        // charrnn id → PyTorch id (nil: the added <unk>).
        let unknownIndex = units.units.firstIndex(of: Vocabulary.unknownToken)
        let ordered: [Int?] = [unknownIndex] + (0..<v).filter { $0 != unknownIndex }.map { Optional($0) }
        var config = source
        config.vocabularySize = ordered.count
        let parameters: ParameterSet<Float>
        if ordered.enumerated().allSatisfy({ $0.element == $0.offset }) {
            parameters = imported
        } else {
            parameters = ParameterSet<Float>(layout: LanguageModel<Float>.layout(for: config))
            // The two layouts list the same names in the same order; only the vocabulary rows differ.
            for (slot, sourceSlot) in zip(parameters.layout.slots, imported.layout.slots) {
                let from = imported.values(sourceSlot), to = parameters.values(slot)
                guard ["encoder.weight", "decoder.weight", "decoder.bias"].contains(slot.name) else {
                    _ = to.update(fromContentsOf: from)
                    continue
                }
                let width = slot.count / config.vocabularySize
                for (row, sourceRow) in ordered.enumerated() {
                    for column in 0..<width {
                        to[row * width + column] = sourceRow.map { from[$0 * width + column] }
                            ?? (slot.name == "decoder.bias" ? unknownBias : 0)
                    }
                }
            }
        }
        let vocabulary = try orderedVocabulary(ordered.map { $0.map { units.units[$0] } ?? Vocabulary.unknownToken },
                                               tokenizer: tokenizer, path: units.path)
        let configuration = RunConfiguration(model: config, tokenizer: tokenizer, training: TrainingOptions(),
                                             corpus: CorpusDescription(importedFrom: path))
        return Checkpoint(configuration: configuration, vocabulary: vocabulary,
                          model: LanguageModel<Float>(config: config, parameters: parameters))
    }

    /// `stateDict` with tied weights stored once completed: PyTorch's `safetensors.torch.save_model`
    /// keeps `decoder.weight` and drops `encoder.weight`, other writers may drop the decoder's copy.
    /// A missing decoder weight needs embedding size = hidden size (columns of `rnn.weight_hh_l0`).
    static func untied(_ stateDict: SafetensorsFile, path: String) throws -> SafetensorsFile {
        var file = stateDict
        func copy(_ tensor: SafetensorsTensor, as name: String) -> SafetensorsTensor {
            SafetensorsTensor(name: name, dtype: tensor.dtype, shape: tensor.shape, bytes: tensor.bytes)
        }
        switch (file.tensor("encoder.weight"), file.tensor("decoder.weight")) {
        case (let encoder?, nil):
            if let hidden = file.tensor("rnn.weight_hh_l0")?.shape.last, encoder.shape.last != hidden {
                throw CheckpointError.mismatch(path, "decoder.weight is missing and encoder.weight \(encoder.shape) cannot stand "
                                               + "in for it (tied weights need embedding size = hidden size \(hidden))")
            }
            file.tensors.append(copy(encoder, as: "decoder.weight"))
        case (nil, let decoder?):
            file.tensors.append(copy(decoder, as: "encoder.weight"))
        default:
            break
        }
        return file
    }

    /// The checkpoint a `charrnn export` file (`WeightExport`) describes: its configuration and
    /// vocabulary from the metadata, its weights converted to f32 (exact from F32, F16 and BF16).
    public static func checkpoint(fromExport file: SafetensorsFile, path: String) throws -> Checkpoint {
        guard WeightExport.isSelfDescribing(file), let config = file.metadata[WeightExport.configKey],
              let vocabularyJSON = file.metadata[WeightExport.vocabularyKey] else {
            throw CheckpointError.malformed(path, "no charrnn configuration and vocabulary in __metadata__")
        }
        if let version = file.metadata["format_version"], version != "\(RunConfiguration.currentFormatVersion)" {
            throw CheckpointError.unsupportedVersion(path, version)
        }
        let configuration: RunConfiguration
        do {
            configuration = try JSONDecoder().decode(RunConfiguration.self, from: Data(config.utf8))
        } catch {
            throw CheckpointError.malformed(path, "__metadata__ config is invalid (\(RunConfiguration.decodingProblem(error)))")
        }
        if let problem = configuration.model.validationError {
            throw CheckpointError.malformed(path, "__metadata__ config: \(problem)")
        }
        let vocabulary = try Vocabulary(jsonData: Data(vocabularyJSON.utf8), name: "\(path) (__metadata__ vocabulary)")
        guard vocabulary.count == configuration.model.vocabularySize else {
            throw CheckpointError.mismatch(path, "__metadata__ vocabulary has \(vocabulary.count) units but the config "
                                           + "has vocabularySize \(configuration.model.vocabularySize)")
        }
        let parameters = try Checkpoint.parameters(from: file, layout: LanguageModel<Float>.layout(for: configuration.model),
                                                   path: path)
        return Checkpoint(configuration: configuration, vocabulary: vocabulary,
                          model: LanguageModel<Float>(config: configuration.model, parameters: parameters))
    }

    /// A vocabulary with exactly `units` in id order (`units[0]` is `<unk>`).
    private static func orderedVocabulary(_ units: [String], tokenizer: TokenizerOptions, path: String) throws -> Vocabulary {
        struct Document: Encodable {
            var format = "charrnn-vocabulary", version = 1
            var tokenizer: TokenizerOptions
            var unknown = Vocabulary.unknownToken
            var units: [String]
        }
        let data = try JSONEncoder().encode(Document(tokenizer: tokenizer, units: units))
        return try Vocabulary(jsonData: data, name: path)
    }
}

extension CorpusDescription {
    /// The description of a checkpoint imported from the weights at `path`: no corpus was seen.
    init(importedFrom path: String) {
        paths = [path]
        units = 0; trainUnits = 0; validationUnits = 0; testUnits = 0
        fingerprint = "imported"
    }
}
