import CICU

/// Facts about the ICU library CharRNN's tokenizer runs on.
public enum ICUInfo {
    /// ICU's version as "MAJOR.MINOR" (for example "72.1"); segmentation rules and dictionaries
    /// change between ICU versions, so checkpoints and reports record it.
    public static var version: String {
        var buffer = [CChar](repeating: 0, count: 32)
        cicu_version(&buffer, Int32(buffer.count))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
