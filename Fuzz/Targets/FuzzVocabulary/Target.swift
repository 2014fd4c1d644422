// libFuzzer target: Vocabulary(jsonData:) (vocab.json) on arbitrary bytes.
// Property: parsing never crashes; a vocabulary that parses serializes and parses back equal, and
// every unit maps to its own id.
import Foundation
import FuzzSupport
import TextCorpus

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = ScratchFiles.input(data, size)
    guard let vocabulary = try? Vocabulary(jsonData: bytes.count == 0 ? Data() : Data(bytes), name: "vocab.json") else {
        return 0
    }
    do {
        let again = try Vocabulary(jsonData: try vocabulary.jsonData(), name: "saved vocab.json")
        precondition(again == vocabulary, "vocab.json changed in a save/load round trip")
    } catch {
        fatalError("a parsed vocab.json did not serialize and parse back: \(error)")
    }
    for (id, unit) in vocabulary.units.enumerated() {
        precondition(vocabulary.id(of: unit) == Int32(id), "unit \(unit.debugDescription) does not map back to id \(id)")
        precondition(vocabulary.unit(of: Int32(id)) == unit, "id \(id) does not map to its unit")
    }
    return 0
}
