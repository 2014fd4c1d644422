/// UTF-8 well-formedness (Unicode 15, Table 3-7): no overlongs, no surrogates, nothing above U+10FFFF.
enum UTF8Validation {
    /// What stopped a scan.
    enum Stop: Equatable {
        /// Everything up to the end was well-formed.
        case end
        /// An ill-formed sequence starts here; `length` is its maximal subpart (the bytes one U+FFFD replaces).
        case invalid(at: Int, length: Int)
        /// A well-formed prefix of a sequence runs into the end of the buffer (more bytes may complete it).
        case incomplete(at: Int)
    }

    /// Scans `bytes[start...]` for the first problem.
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Stop {
        guard let base = bytes.baseAddress else { return .end }
        let count = bytes.count
        var i = start
        while i < count {
            // ASCII fast path: eight bytes at a time.
            while i + 8 <= count {
                let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                if word & 0x8080_8080_8080_8080 != 0 { break }
                i += 8
            }
            if i >= count { break }
            let b0 = base[i]
            if b0 < 0x80 { i += 1; continue }
            let need: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF
            switch b0 {
            case 0xC2...0xDF: need = 1
            case 0xE0: need = 2; low = 0xA0
            case 0xE1...0xEC, 0xEE, 0xEF: need = 2
            case 0xED: need = 2; high = 0x9F
            case 0xF0: need = 3; low = 0x90
            case 0xF1...0xF3: need = 3
            case 0xF4: need = 3; high = 0x8F
            default: return .invalid(at: i, length: 1)
            }
            for k in 1...need {
                if i + k >= count { return .incomplete(at: i) }
                let b = base[i + k]
                let ok = k == 1 ? (b >= low && b <= high) : (b >= 0x80 && b <= 0xBF)
                if !ok { return .invalid(at: i, length: k) }
            }
            i += need + 1
        }
        return .end
    }
}
