import Foundation
import NeuralNet
import Tensor

/// Self-describing weight files (`charrnn export`): a checkpoint's weights under their PyTorch
/// names (`encoder.weight`, `rnn.weight_ih_l0`, …, `decoder.bias`) in F32, F16 or BF16, with
/// `__metadata__`
///
///     format          "charrnn"
///     format_version  the checkpoint format version ("1")
///     dtype           "F32", "F16" or "BF16"
///     config          the checkpoint's config.json (a JSON document in a string)
///     vocabulary      its vocab.json (likewise)
///
/// so the one file rebuilds the checkpoint (`charrnn import` without `--vocab`), and it is also a
/// valid `model.safetensors` of a checkpoint directory. PyTorch's `safetensors.torch.load_file`
/// reads it as a state dict of word_language_model's `RNNModel` (untied weights).
public enum WeightExport {
    /// Metadata keys of an exported file.
    public static let dtypeKey = "dtype", configKey = "config", vocabularyKey = "vocabulary"

    /// The weights of `checkpoint` in `dtype` (`.f32`, `.f16` or `.bf16`), rounded to nearest with
    /// ties to even. Throws `TensorConversionError.overflow` naming the tensor when a finite weight is
    /// beyond the finite range of `dtype` (it is refused, not written as infinity).
    public static func file(of checkpoint: Checkpoint, dtype: SafetensorsDType) throws -> SafetensorsFile {
        precondition(SafetensorsDType.exportable.contains(dtype), "cannot export \(dtype.rawValue)")
        var file = Checkpoint.weights(of: checkpoint.model)
        if dtype != .f32 {
            let parameters = checkpoint.model.parameters
            file.tensors = try parameters.layout.slots.map { slot in
                try SafetensorsTensor(name: slot.name, shape: slot.shape,
                                      floats: UnsafeBufferPointer(parameters.values(slot)), as: dtype)
            }
        }
        file.metadata[dtypeKey] = dtype.rawValue
        file.metadata[configKey] = String(decoding: try checkpoint.configuration.jsonData(), as: UTF8.self)
        file.metadata[vocabularyKey] = String(decoding: try checkpoint.vocabulary.jsonData(), as: UTF8.self)
        return file
    }

    /// True when `file` carries the configuration and vocabulary of a charrnn export.
    public static func isSelfDescribing(_ file: SafetensorsFile) -> Bool {
        file.metadata["format"] == "charrnn" && file.metadata[configKey] != nil && file.metadata[vocabularyKey] != nil
    }
}
