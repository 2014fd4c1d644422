import Foundation
import TextCorpus

/// Strings that end a sample once it has generated one of them (`charrnn generate --stop`).
///
/// Each string is normalized like the model's text (the vocabulary's `TokenizerOptions`:
/// normalization, case folding) and kept as the UTF-8 bytes of that text, which is what samples are
/// matched on. So a stop string is found wherever its bytes appear in the generated text, across
/// unit boundaries and also inside a unit (a word or grapheme unit may hold more than the stop
/// string); with byte units a unit's text is its one byte.
public struct StopStrings: Sendable, Equatable {
    /// The strings as given, in order.
    public let strings: [String]
    /// `patterns[i]`: the bytes of `strings[i]` after normalization; never empty.
    public let patterns: [[UInt8]]

    /// The length in bytes of the longest pattern (0 when there is none).
    public var longest: Int { patterns.map(\.count).max() ?? 0 }
    /// Whether there are no stop strings.
    public var isEmpty: Bool { strings.isEmpty }

    /// No stop strings: a sample runs to its length.
    public static let none = StopStrings(strings: [], patterns: [])

    private init(strings: [String], patterns: [[UInt8]]) {
        self.strings = strings; self.patterns = patterns
    }

    /// Normalizes `strings` with `tokenizer`. Throws `GenerationError.invalidOption` naming `--stop`
    /// for a string that is empty (before or after normalization), or ICU's error.
    public init(_ strings: [String], tokenizer: TokenizerOptions) throws {
        let cutter = Tokenizer(tokenizer)
        var patterns: [[UInt8]] = []
        for string in strings {
            let bytes = try cutter.units(of: string).flatMap { Self.bytes(ofUnit: $0, unit: tokenizer.unit) }
            guard !bytes.isEmpty else {
                throw GenerationError.invalidOption("--stop: the stop string \"\(GenerationError.escaped(string))\" is empty")
            }
            patterns.append(bytes)
        }
        self.strings = strings
        self.patterns = patterns
    }

    /// The text of one unit as bytes: a byte unit (one scalar U+0000…U+00FF) is that byte, any
    /// other unit its UTF-8.
    public static func bytes(ofUnit text: String, unit: TokenUnit) -> [UInt8] {
        guard unit == .byte else { return Array(text.utf8) }
        return text.unicodeScalars.flatMap { $0.value < 0x100 ? [UInt8($0.value)] : Array(String($0).utf8) }
    }

    /// The bytes of every unit the model can draw (`units[id]` for each id; empty for `<unk>`,
    /// which is never drawn).
    public static func unitBytes(of vocabulary: Vocabulary) -> [[UInt8]] {
        vocabulary.units.indices.map { id in
            id == Int(Vocabulary.unknownID) ? [] : bytes(ofUnit: vocabulary.units[id], unit: vocabulary.tokenizer.unit)
        }
    }

    /// The strings that no sequence of `vocabulary`'s units (`<unk>` excluded) can contain, so a
    /// sample could never stop on them.
    public func unproducible(by vocabulary: Vocabulary) -> [String] {
        let units = Self.unitBytes(of: vocabulary).filter { !$0.isEmpty }
        return zip(strings, patterns).filter { !Self.producible($0.1, from: units) }.map(\.0)
    }

    /// Whether some concatenation of `units` contains `pattern`: the pattern starts inside a unit
    /// (a suffix of it) or at a unit's start, continues over whole units, and ends inside one (a prefix).
    static func producible(_ pattern: [UInt8], from units: [[UInt8]]) -> Bool {
        let n = pattern.count
        // reached[i]: pattern[0..<i] can be the end of a concatenation, with a unit boundary after it.
        var reached = [Bool](repeating: false, count: n + 1)
        for unit in units {
            if unit.count >= n, contains(unit, pattern) { return true }
            // A suffix of the unit that is a prefix of the pattern.
            if n > 1 {
                for length in 1...min(unit.count, n - 1)
                where unit[(unit.count - length)...].elementsEqual(pattern[0..<length]) { reached[length] = true }
            }
        }
        for i in 1..<max(n, 1) where reached[i] {
            let rest = pattern[i...]
            for unit in units {
                if unit.count >= rest.count {
                    if unit.starts(with: rest) { return true }
                } else if rest.starts(with: unit) {
                    reached[i + unit.count] = true
                }
            }
        }
        return false  // a unit completing the pattern returned above
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        for start in 0...(haystack.count - needle.count)
        where haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
        return false
    }
}
