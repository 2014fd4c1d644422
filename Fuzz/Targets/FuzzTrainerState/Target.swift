// libFuzzer target: Checkpoint.loadTrainerState (trainer-state.json + trainer-state.safetensors, for
// --resume) on arbitrary bytes. The input is split at its first NUL byte: the bytes before it are
// trainer-state.json, the bytes after it trainer-state.safetensors (JSON never holds a NUL; a
// safetensors file starts with a little-endian length whose high bytes are 0).
// The model is fixed and tiny (LSTM, 1 layer, hidden 8, batch 2), like the seed's run.
// Property: loading never crashes; loaded carried state has the model's shape.
import CharRNN
import Foundation
import FuzzSupport
import NeuralNet

let model = ModelConfig(vocabularySize: 10, embeddingSize: 4, hiddenSize: 8, layers: 1, cell: .lstm)
let batchSize = 2
let checkpoint: URL = {
    let directory = ScratchFiles.directory.appendingPathComponent("checkpoint")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    // Only its presence marks the directory as a checkpoint.
    _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("model.safetensors").path, contents: Data())
    return directory
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = ScratchFiles.input(data, size)
    let directory = checkpoint.path
    let split = bytes.firstIndex(of: 0) ?? bytes.count
    _ = ScratchFiles.write(UnsafeRawBufferPointer(rebasing: bytes[0..<split]), named: "checkpoint/\(Checkpoint.stateFile)")
    let rest = UnsafeRawBufferPointer(rebasing: bytes[min(split + 1, bytes.count)...])
    _ = ScratchFiles.write(rest, named: "checkpoint/\(Checkpoint.stateTensorsFile)")
    guard let (_, tensors) = try? Checkpoint.loadTrainerState(from: directory, model: model, batchSize: batchSize) else {
        return 0
    }
    precondition(tensors.carried.h.count == model.layers, "carried state has the wrong number of layers")
    return 0
}
