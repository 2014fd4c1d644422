import CICU

/// Thin Swift wrappers over the CICU shim; buffers are grown and reused by the caller.
enum ICUText {
    static let bufferOverflow: Int32 = 15  // U_BUFFER_OVERFLOW_ERROR

    static func errorName(_ status: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        cicu_error_name(status, &buffer, Int32(buffer.count))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func check(_ status: Int32, _ operation: String) throws {
        if status > 0 { throw CorpusError.icu(operation: operation, status: status, name: errorName(status)) }
    }

    /// Runs a "write into buffer, return needed length" ICU call, growing `output` once if needed.
    /// Returns the result length.
    static func transform(
        _ operation: String, into output: inout [UInt16], estimate: Int,
        _ call: (UnsafeMutablePointer<UInt16>, Int32, inout Int32) -> Int32
    ) throws -> Int {
        if output.count < max(estimate, 16) { output = [UInt16](repeating: 0, count: max(estimate, 16)) }
        var status: Int32 = 0
        var length = output.withUnsafeMutableBufferPointer { call($0.baseAddress!, Int32($0.count), &status) }
        if status == bufferOverflow {
            output = [UInt16](repeating: 0, count: Int(length) + 16)
            status = 0
            length = output.withUnsafeMutableBufferPointer { call($0.baseAddress!, Int32($0.count), &status) }
        }
        try check(status, operation)
        return Int(length)
    }

    static func formCode(_ form: NormalizationForm) -> Int32 { form == .nfkc ? 2 : 1 }
}

/// An ICU break iterator (grapheme clusters or words) owned by one segmenter.
final class ICUBreaker {
    private let handle: OpaquePointer
    private var boundaries: [Int32] = []

    init(words: Bool) throws {
        var status: Int32 = 0
        guard let handle = cicu_breaker_open(words ? 1 : 0, &status) else {
            throw CorpusError.icu(operation: "ubrk_open", status: status, name: ICUText.errorName(status))
        }
        self.handle = handle
    }

    deinit { cicu_breaker_close(handle) }

    /// Calls `body` with the end offset of every segment of `text` (UTF-16 offsets, increasing, last = count).
    func segments(_ text: UnsafeBufferPointer<UInt16>, _ body: (Int) throws -> Void) throws {
        let count = text.count
        if count == 0 { return }
        if boundaries.count < count { boundaries = [Int32](repeating: 0, count: count) }
        var status: Int32 = 0
        let found = boundaries.withUnsafeMutableBufferPointer {
            cicu_breaker_boundaries(handle, text.baseAddress, Int32(count), $0.baseAddress, Int32($0.count), &status)
        }
        try ICUText.check(status, "ubrk_next")
        for k in 0..<Int(found) { try body(Int(boundaries[k])) }
    }
}
