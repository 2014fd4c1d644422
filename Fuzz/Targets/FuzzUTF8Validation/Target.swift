// libFuzzer target: UTF8Validation.scan (internal; built with -enable-testing) against Swift's own
// UTF-8 decoder. Properties: the scan finds no problem exactly when Swift validates the bytes;
// replacing each reported ill-formed subpart (and an incomplete tail) with U+FFFD gives exactly
// Swift's decoding with replacement; every reported position and length lies inside the buffer.
import Foundation
@testable import TextCorpus

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : [UInt8](UnsafeBufferPointer(start: data, count: size))
    let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]
    var decoded: [UInt8] = []
    var clean = true
    bytes.withUnsafeBufferPointer { buffer in
        var start = 0
        scanning: while true {
            switch UTF8Validation.scan(buffer, from: start) {
            case .end:
                decoded += buffer[start...]
                break scanning
            case .incomplete(let at):
                precondition(at >= start && at < buffer.count && buffer.count - at <= 3, "incomplete(at: \(at)) out of range")
                clean = false
                decoded += buffer[start..<at] + replacement
                break scanning
            case .invalid(let at, let length):
                precondition(at >= start && length >= 1 && length <= 3 && at + length <= buffer.count,
                             "invalid(at: \(at), length: \(length)) out of range")
                clean = false
                decoded += buffer[start..<at] + replacement
                start = at + length
            }
        }
    }
    let valid = String(validating: bytes, as: UTF8.self) != nil
    precondition(clean == valid, "scan says \(clean ? "valid" : "invalid"), Swift says \(valid ? "valid" : "invalid")")
    precondition(decoded == Array(String(decoding: bytes, as: UTF8.self).utf8), "replacement differs from Swift's decoder")
    return 0
}
