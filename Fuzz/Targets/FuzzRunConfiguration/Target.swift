// libFuzzer target: RunConfiguration.load (config.json) on arbitrary bytes.
// Property: loading never crashes; a configuration that loads saves (jsonData) and loads back equal.
import CharRNN
import Foundation
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let url = ScratchFiles.write(ScratchFiles.input(data, size), named: "config.json")
    guard let configuration = try? RunConfiguration.load(from: url) else { return 0 }
    do {
        let saved = ScratchFiles.directory.appendingPathComponent("saved-config.json")
        try configuration.jsonData().write(to: saved)
        let again = try RunConfiguration.load(from: saved)
        precondition(again == configuration, "config.json changed in a save/load round trip")
    } catch {
        fatalError("a loaded config.json did not save and load back: \(error)")
    }
    return 0
}
