// libFuzzer target: SafetensorsFile.parse on arbitrary bytes.
// Property: parsing never crashes; a file that parses re-serializes to bytes that parse to the same
// tensors and metadata (the writer and reader agree on every name, dtype, shape and byte).
import CharRNN
import Foundation
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = ScratchFiles.input(data, size)
    guard let file = try? SafetensorsFile.parse(bytes, path: "fuzz.safetensors") else { return 0 }
    let again: SafetensorsFile
    do {
        again = try SafetensorsFile.parse(file.serialized(), path: "reserialized.safetensors")
    } catch {
        fatalError("a parsed file did not re-parse after serialization: \(error)")
    }
    // Zero-length tensors share an offset, so their order is not fixed: compare by name.
    let sortedFirst = file.tensors.sorted { $0.name < $1.name }
    let sortedAgain = again.tensors.sorted { $0.name < $1.name }
    precondition(sortedFirst == sortedAgain, "tensors changed in a serialize/parse round trip")
    precondition(file.metadata == again.metadata, "metadata changed in a serialize/parse round trip")
    return 0
}
