import ArgumentParser
import CharRNN
import Foundation
import NeuralNet
import TextCorpus

/// `charrnn import`: a checkpoint directory from a PyTorch word_language_model state dict (or a
/// `charrnn export` file).
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Make a checkpoint from a PyTorch word_language_model state dict saved as safetensors.",
        discussion: """
        The state dict holds encoder.weight (V×E), rnn.weight_ih_l{k}, rnn.weight_hh_l{k}, rnn.bias_ih_l{k}, \
        rnn.bias_hh_l{k} (k = 0…L−1) and decoder.weight (V×H), decoder.bias (V), in F32, F16, BF16 or F64. The cell \
        (rows of rnn.weight_hh_l0: 4H LSTM, 3H GRU, H RNN), layers, hidden and embedding sizes are read from the \
        shapes. Without decoder.weight (tied weights) encoder.weight is used for it.

        --vocab is a JSON array of strings, element i the unit of PyTorch id i, e.g. ["\\n", " ", "a"]. charrnn's id \
        0 is <unk>: an element "<unk>" moves there; without one an <unk> is added that the model never predicts. \
        Text is cut into units by --unit/--normalize (default codepoint and none: Python's list(text)).

        A file written by `charrnn export` needs no --vocab: its __metadata__ holds the configuration and vocabulary.
        """)

    enum Nonlinearity: String, ExpressibleByArgument, CaseIterable { case tanh, relu }

    @Argument(help: "The state dict (.safetensors).") var stateDict: String
    @Option(help: "Vocabulary file: a JSON array of units in PyTorch id order.") var vocab: String?
    @Option(help: "The checkpoint directory to create (must not exist).") var out: String
    @Option(help: "Cell type the state dict must have (lstm, gru or rnn); inferred when omitted.") var cell: CellKind?
    @Option(help: "RNN cells: the nonlinearity (tanh; relu is not supported).") var nonlinearity: Nonlinearity = .tanh
    @Option(help: "Unit of text: codepoint (default), grapheme, byte or word.") var unit: TokenUnit = .codepoint
    @Option(name: .customLong("normalize"), help: "Unicode normalization: none (default), nfc or nfkc.")
    var normalization: NormalizationForm = .none
    @Flag(help: "Apply full Unicode case folding.") var caseFold = false

    func validate() throws {
        if nonlinearity == .relu {
            throw ValidationError("--nonlinearity relu: charrnn's RNN cell is tanh only; an RNN_RELU model cannot be imported")
        }
    }

    func run() throws {
        try CLIErrors.reporting {
            if FileManager.default.fileExists(atPath: out) {
                throw CheckpointError.cannotWrite(out, "--out already exists; give a new directory")
            }
            let url = URL(fileURLWithPath: stateDict)
            let file = try SafetensorsFile.read(from: url)
            let checkpoint: Checkpoint
            if let vocab {
                let units = try StateDictImport.Units.read(from: URL(fileURLWithPath: vocab))
                checkpoint = try StateDictImport.checkpoint(
                    fromStateDict: file, path: stateDict, units: units, cell: cell,
                    tokenizer: TokenizerOptions(unit: unit, normalization: normalization, caseFold: caseFold))
            } else {
                guard WeightExport.isSelfDescribing(file) else {
                    throw CheckpointError.malformed(stateDict, "--vocab is required: the file has no charrnn vocabulary in __metadata__")
                }
                checkpoint = try StateDictImport.checkpoint(fromExport: file, path: stateDict)
                if let cell, cell != checkpoint.configuration.model.cell {
                    throw CheckpointError.mismatch(stateDict, "--cell \(cell.rawValue) but the file holds a \(checkpoint.configuration.model.cell.rawValue) model")
                }
            }
            try checkpoint.write(to: URL(fileURLWithPath: out))
            let model = checkpoint.configuration.model
            try StandardOutput.print("wrote \(out): \(model.cell.rawValue) \(model.layers)×\(model.hiddenSize), embedding \(model.embeddingSize), "
                  + "vocabulary \(model.vocabularySize) (<unk> included)")
        }
    }
}
