// libFuzzer target: the CLI's duration parser TrainCommand.parseDuration (--time-limit,
// --checkpoint-every) and parseCheckpointCadence on arbitrary strings.
// Properties: never crashes; an accepted duration is finite and > 0 seconds; an accepted cadence
// is either a step count ≥ 0 or a duration.
import Foundation
@testable import CharRNNCLI

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = size == 0 ? "" : String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let seconds = try? TrainCommand.parseDuration(text) {
        precondition(seconds.isFinite && seconds > 0, "'\(text)' parses to \(seconds) s")
    }
    if let cadence = try? TrainCommand.parseCheckpointCadence(text) {
        precondition(cadence.steps >= 0, "'\(text)' parses to \(cadence.steps) steps")
        if let seconds = cadence.seconds { precondition(seconds.isFinite && seconds > 0 && cadence.steps == 0, "'\(text)' parses to \(seconds) s") }
    }
    return 0
}
