import ArgumentParser
import CharRNN
import Foundation

/// `charrnn export`: a checkpoint's weights as one self-describing safetensors file.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a checkpoint's weights as one safetensors file in f32, f16 or bf16.",
        discussion: """
        The tensors keep their PyTorch names (encoder.weight, rnn.weight_ih_l0, …, decoder.bias: the state dict of \
        word_language_model's RNNModel). f16 and bf16 round to nearest, ties to even; a weight beyond f16's range \
        (±65504) is an error naming the tensor, not an infinity. __metadata__ holds format, format_version, dtype, \
        config (config.json) and vocabulary (vocab.json), so `charrnn import FILE --out DIR` rebuilds the \
        checkpoint, and the file also serves as a checkpoint's model.safetensors. Written atomically.
        """)

    enum DType: String, ExpressibleByArgument, CaseIterable {
        case f32, f16, bf16
        var safetensors: SafetensorsDType {
            switch self {
            case .f32: .f32
            case .f16: .f16
            case .bf16: .bf16
            }
        }
    }

    @Argument(help: "Checkpoint directory (or run directory, meaning its latest/).") var checkpoint: String
    @Option(help: "Element type of the written tensors: f32, f16 or bf16.") var dtype: DType = .f32
    @Option(name: [.customShort("o"), .customLong("out")], help: "The safetensors file to write.") var output: String

    func run() throws {
        try CLIErrors.reporting {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory), isDirectory.boolValue {
                throw CheckpointError.cannotWrite(output, "-o names a directory, not a file")
            }
            let loaded = try Checkpoint.load(from: checkpoint)
            let file = try WeightExport.file(of: loaded, dtype: dtype.safetensors)
            try file.write(to: URL(fileURLWithPath: output))
            let values = file.tensors.reduce(0) { $0 + $1.count }
            try StandardOutput.print("wrote \(output): \(file.tensors.count) tensors, \(values) \(dtype.safetensors.rawValue) values")
        }
    }
}
