/// How text is cut into units (the tokens a character-level model predicts).
public enum TokenUnit: String, Codable, Sendable, CaseIterable {
    /// Extended grapheme clusters (UAX #29, via ICU): what a reader calls one character.
    case grapheme
    /// Unicode scalar values (code points).
    case codepoint
    /// Raw UTF-8 bytes of the (normalized) text. A byte unit is stored as the one-scalar string
    /// U+0000…U+00FF with that value, so vocabularies stay plain JSON strings.
    case byte
    /// Every segment between ICU word boundaries, spaces and punctuation included, so that concatenating
    /// the units gives back the text. Thai, Chinese and Japanese segment by ICU's dictionaries.
    case word
}

/// Unicode normalization applied before segmentation.
public enum NormalizationForm: String, Codable, Sendable, CaseIterable {
    /// Canonical composition: precomposed and combining spellings of "é" become the same unit.
    case nfc
    /// Compatibility composition: also folds ligatures, full-width forms, superscripts.
    case nfkc
    /// The text as it is.
    case none
}

/// Tokenizer settings; stored in a checkpoint's config.json and in vocab.json, so Codable.
/// JSON keys: `unit`, `normalization`, `case_fold`.
public struct TokenizerOptions: Codable, Sendable, Hashable {
    /// What one unit is. Default `.grapheme`.
    public var unit: TokenUnit
    /// Normalization applied first. Default `.nfc`.
    public var normalization: NormalizationForm
    /// Full Unicode case folding (after which the text is normalized again). Default false.
    public var caseFold: Bool

    public init(unit: TokenUnit = .grapheme, normalization: NormalizationForm = .nfc, caseFold: Bool = false) {
        self.unit = unit
        self.normalization = normalization
        self.caseFold = caseFold
    }

    enum CodingKeys: String, CodingKey {
        case unit, normalization
        case caseFold = "case_fold"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        unit = try container.decodeIfPresent(TokenUnit.self, forKey: .unit) ?? .grapheme
        normalization = try container.decodeIfPresent(NormalizationForm.self, forKey: .normalization) ?? .nfc
        caseFold = try container.decodeIfPresent(Bool.self, forKey: .caseFold) ?? false
    }
}
