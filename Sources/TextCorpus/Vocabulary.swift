import Foundation

/// The mapping between units and model ids (Int32).
///
/// Id 0 is `<unk>`: units that were never seen in the training split, or that fall outside `maxVocab` /
/// `minCount`, encode to it. Ids 1… are the kept units in increasing order of their UTF-8 bytes, so the
/// same counts always give the same ids. The vocabulary carries its `TokenizerOptions`, so encoding new text
/// with it segments the text the same way.
///
/// JSON (vocab.json): `{"format": "charrnn-vocabulary", "version": 1, "tokenizer": {…}, "unknown": "<unk>",
/// "units": ["<unk>", "\n", " ", …]}` with `units[id]` the unit of that id.
public struct Vocabulary: Sendable, Equatable {
    /// The id of `<unk>`.
    public static let unknownID: Int32 = 0
    /// The spelling of the unknown unit in `units` and in JSON.
    public static let unknownToken = "<unk>"

    /// How units were cut.
    public let tokenizer: TokenizerOptions
    /// `units[id]` is the unit with that id; `units[0] == "<unk>"`.
    public let units: [String]
    /// Unit (UTF-8 bytes) → id, for units other than `<unk>`.
    private let index: UnitTable
    /// Ids of single-ASCII-character units, −1 where absent (the encoding fast path).
    let asciiIDs: [Int32]

    /// The number of ids (V), `<unk>` included.
    public var count: Int { units.count }

    /// A vocabulary of `knownUnits` (any order, no duplicates, without `<unk>`), which are sorted into id order.
    public init(units knownUnits: some Sequence<String>, tokenizer: TokenizerOptions) {
        let sorted = knownUnits.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        self.init(orderedUnits: [Self.unknownToken] + sorted, tokenizer: tokenizer)
    }

    /// Builds the vocabulary from unit counts (normally the training split's): units with fewer than
    /// `minCount` occurrences are dropped, then, if `maxVocab` is set, only the `maxVocab − 1` most frequent
    /// remain (ties broken by UTF-8 byte order), `<unk>` taking the last place.
    public init(counts: [String: Int], tokenizer: TokenizerOptions, maxVocab: Int? = nil, minCount: Int = 1) {
        self.init(counted: counts.map { ($0.key, $0.value) }, tokenizer: tokenizer, maxVocab: maxVocab, minCount: minCount)
    }

    /// The same from (unit, count) pairs with distinct units. Units are distinct by their UTF-8 bytes (not by
    /// `String ==`, which would merge canonically equivalent spellings that normalization `.none` keeps apart).
    public init(counted: [(String, Int)], tokenizer: TokenizerOptions, maxVocab: Int? = nil, minCount: Int = 1) {
        var kept = counted.filter { $0.1 >= max(1, minCount) }
        if let maxVocab, kept.count > maxVocab - 1 {
            kept.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
            kept.removeLast(kept.count - max(0, maxVocab - 1))
        }
        self.init(units: kept.map(\.0), tokenizer: tokenizer)
    }

    /// `orderedUnits` in id order, with `<unk>` first.
    private init(orderedUnits: [String], tokenizer: TokenizerOptions) {
        self.tokenizer = tokenizer
        self.units = orderedUnits
        var index = UnitTable(capacity: orderedUnits.count)
        var asciiIDs = [Int32](repeating: -1, count: 128)
        for (id, unit) in orderedUnits.enumerated() where id > 0 {
            index.insert(UnitKey(unit), Int32(id))
            let scalars = unit.unicodeScalars
            if scalars.count == 1, let scalar = scalars.first, scalar.value < 0x80 { asciiIDs[Int(scalar.value)] = Int32(id) }
        }
        self.index = index
        self.asciiIDs = asciiIDs
    }

    /// Same tokenizer and the same units (by UTF-8 bytes) in the same order.
    public static func == (lhs: Vocabulary, rhs: Vocabulary) -> Bool {
        lhs.tokenizer == rhs.tokenizer && lhs.units.count == rhs.units.count
            && zip(lhs.units, rhs.units).allSatisfy { Array($0.utf8) == Array($1.utf8) }
    }

    /// The id of `unit`, or `unknownID`.
    public func id(of unit: String) -> Int32 { index.find(UnitKey(unit)) ?? Self.unknownID }

    /// The id of `unit`, or nil when it is not in the vocabulary.
    public func knownID(of unit: String) -> Int32? { index.find(UnitKey(unit)) }

    /// The id of the unit with these UTF-8 bytes, or nil.
    func knownID(utf8: UnsafeBufferPointer<UInt8>) -> Int32? { index.find(UnitKey(utf8)) }

    /// The unit of `id` (`<unk>` for 0 and for ids out of range).
    public func unit(of id: Int32) -> String {
        id > 0 && Int(id) < units.count ? units[Int(id)] : Self.unknownToken
    }

    /// Encodes `text` with this vocabulary's tokenizer: ids (one per unit) and how many were `<unk>`.
    public func encode(_ text: String) throws -> (ids: [Int32], unknown: Int) {
        var sink = EncodingSink(vocabulary: self)
        let segmenter = try UnitSegmenter(options: tokenizer)
        let bytes = Array(text.utf8)
        try bytes.withUnsafeBufferPointer { try segmenter.feed($0, into: &sink) }
        try segmenter.finish(into: &sink)
        try sink.ids.checkAllocation(sources: "the text")
        return (TokenIDs(storage: sink.ids, bounds: 0..<sink.ids.count).array, sink.unknown)
    }

    /// Decodes ids to text. `<unk>` (and any id out of range) becomes `unknown`.
    public func decode<C: Sequence>(_ ids: C, unknown: String = "\u{FFFD}") -> String where C.Element == Int32 {
        if tokenizer.unit == .byte {
            // Unknown bytes are replaced after reassembly so they cannot merge with neighbouring bytes.
            var text = ""
            var run: [String] = []
            for id in ids {
                if id > 0 && Int(id) < units.count {
                    run.append(units[Int(id)])
                } else {
                    text += Tokenizer.join(run, unit: .byte) + unknown
                    run.removeAll()
                }
            }
            return text + Tokenizer.join(run, unit: .byte)
        }
        var text = ""
        for id in ids { text += id > 0 && Int(id) < units.count ? units[Int(id)] : unknown }
        return text
    }

    // MARK: JSON

    private struct File: Codable {
        var format: String
        var version: Int
        var tokenizer: TokenizerOptions
        var unknown: String
        var units: [String]
    }

    static let formatName = "charrnn-vocabulary"

    /// The JSON document (pretty-printed, keys sorted).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(File(format: Self.formatName, version: 1, tokenizer: tokenizer,
                                       unknown: Self.unknownToken, units: units))
    }

    /// Parses a vocabulary document; `name` is used in errors. Throws `CorpusError.malformedVocabulary`.
    public init(jsonData data: Data, name: String = "vocabulary") throws {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch let error as DecodingError {
            throw CorpusError.malformedVocabulary(path: name, reason: Self.describe(error))
        }
        guard file.format == Self.formatName else {
            throw CorpusError.malformedVocabulary(path: name, reason: "format is \"\(file.format)\", expected \"\(Self.formatName)\"")
        }
        guard file.version == 1 else {
            throw CorpusError.malformedVocabulary(path: name, reason: "unsupported version \(file.version)")
        }
        guard file.units.first == Self.unknownToken, file.unknown == Self.unknownToken else {
            throw CorpusError.malformedVocabulary(path: name, reason: "units[0] must be \"\(Self.unknownToken)\"")
        }
        var seen = Set<UnitKey>()
        for (id, unit) in file.units.enumerated() {
            if unit.isEmpty {
                throw CorpusError.malformedVocabulary(path: name, reason: "units[\(id)] is empty")
            }
            if !seen.insert(UnitKey(unit)).inserted {
                throw CorpusError.malformedVocabulary(path: name, reason: "units[\(id)] \(unit.debugDescription) is a duplicate")
            }
        }
        self.init(orderedUnits: file.units, tokenizer: file.tokenizer)
    }

    /// Writes vocab.json atomically (temporary file, then rename).
    public func save(to url: URL) throws {
        try jsonData().write(to: url, options: .atomic)
    }

    /// Reads vocab.json. Throws `missingPath`, `unreadable` or `malformedVocabulary`.
    public static func load(from url: URL) throws -> Vocabulary {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw CorpusError.missingPath(path) }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CorpusError.unreadable(path: path, reason: "\(error.localizedDescription)")
        }
        return try Vocabulary(jsonData: data, name: path)
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return keys.isEmpty ? "" : " at \(keys.hasPrefix(".") ? String(keys.dropFirst()) : keys)"
        }
        let text: String
        switch error {
        case .dataCorrupted(let context):
            var detail = context.debugDescription
            if let underlying = context.underlyingError { detail += " (\(underlying.localizedDescription))" }
            text = "not valid JSON: \(detail)\(path(context))"
        case .keyNotFound(let key, let context):
            text = "missing key \"\(key.stringValue)\"\(path(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            text = "\(context.debugDescription)\(path(context))"
        @unknown default:
            text = "\(error)"
        }
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}

/// Encodes units with a fixed vocabulary, counting unknowns.
struct EncodingSink: CollectingUnitSink {
    let vocabulary: Vocabulary
    let asciiIDs: [Int32]
    var ids = TokenIDBuffer()
    var unknown = 0

    init(vocabulary: Vocabulary) {
        self.vocabulary = vocabulary
        self.asciiIDs = vocabulary.asciiIDs
    }

    mutating func ascii(_ byte: UInt8) {
        let id = asciiIDs[Int(byte)]
        if id < 0 { unknown += 1; ids.append(Vocabulary.unknownID) } else { ids.append(id) }
    }

    mutating func unit(utf8: UnsafeBufferPointer<UInt8>) {
        if let id = vocabulary.knownID(utf8: utf8) { ids.append(id) } else { unknown += 1; ids.append(Vocabulary.unknownID) }
    }
}
