import Foundation

/// A long-range task for synthetic corpora with known answers (see ``SyntheticCorpus``).
public enum SyntheticTask: String, CaseIterable, Codable, Sendable {
    /// Nested `( ) [ ] { }` pairs inside filler words of lowercase letters and spaces.
    case brackets
    /// `@K` … filler … `?K`: the unit after `?` must reproduce the key `K` (A–Z) seen `d` units back.
    case recall
    /// Text-like filler (common English words, commas, full stops) with nested `“ ” ‘ ’ « »` quotations.
    case quotes
}

/// One unit whose value is fixed by something `distance` units earlier: the ground truth a
/// long-range evaluation scores.
///
/// Positions are 0-based indices of grapheme units (Swift `Character`s) in the corpus text; every
/// unit the generators write is one Unicode scalar, so they are also scalar indices, and for the
/// all-ASCII tasks (`brackets`, `recall`) byte offsets.
public struct SyntheticEvent: Codable, Sendable, Equatable {
    /// Index of the unit to predict (the closer, or the reproduced key).
    public var position: Int
    /// Index of the unit that determines it (the opener, or the key after `@`).
    public var openerPosition: Int
    /// `position − openerPosition` (≥ 1).
    public var distance: Int
    /// The unit expected at `position`.
    public var expected: String
    /// Nesting depth of the pair (0 = outermost); 0 for `recall`.
    public var depth: Int

    public init(position: Int, openerPosition: Int, distance: Int, expected: String, depth: Int) {
        self.position = position; self.openerPosition = openerPosition; self.distance = distance
        self.expected = expected; self.depth = depth
    }

    enum CodingKeys: String, CodingKey {
        case position, distance, expected, depth
        case openerPosition = "opener_position"
    }
}

/// Parameters of a synthetic corpus; the same parameters give the same bytes on every machine.
public struct SyntheticOptions: Codable, Sendable, Equatable {
    public var task: SyntheticTask
    /// Length of the text in units (exact).
    public var size: Int
    /// Largest distance between an opener (key) and its closer (reproduction), in units.
    public var maxDistance: Int
    /// Seed of the ``SyntheticRandom`` stream.
    public var seed: UInt64

    public init(task: SyntheticTask, size: Int, maxDistance: Int, seed: UInt64) {
        self.task = task; self.size = size; self.maxDistance = maxDistance; self.seed = seed
    }

    enum CodingKeys: String, CodingKey {
        case task, size, seed
        case maxDistance = "max_distance"
    }

    /// Bytes a corpus of `size` units takes to build and write, at most: the units as `Character`s, the
    /// text and its UTF-8 copy for writing (up to 3 bytes a unit each: the quotes are 3-byte characters),
    /// and the scoring events (at most one per two units). Nil when it overflows `Int`.
    public var memoryNeed: Int? {
        let perUnit = MemoryLayout<Character>.stride + 2 * 3 + (MemoryLayout<SyntheticEvent>.stride + 1) / 2
        return MemorySize.product(size, perUnit)
    }

    /// Throws when a parameter is out of range (names the option), or when `size` needs more memory than
    /// the machine has (`MemoryNeedError`, checked before anything is allocated).
    public func validate() throws {
        if size < 1 { throw SyntheticCorpusError.invalidOption("--size must be at least 1 (got \(size))") }
        try MemoryNeedError.check(memoryNeed, parameter: "--size", value: size, subject: "the corpus")
        let minimum = task == .recall ? 2 : 1
        if maxDistance < minimum {
            throw SyntheticCorpusError.invalidOption(
                "--max-distance must be at least \(minimum) for \(task.rawValue) (got \(maxDistance))")
        }
        if maxDistance > 1_000_000 {
            throw SyntheticCorpusError.invalidOption("--max-distance must be at most 1000000 (got \(maxDistance))")
        }
    }
}

/// A problem making or writing a synthetic corpus.
public enum SyntheticCorpusError: Error, Equatable, CustomStringConvertible {
    case invalidOption(String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidOption(let message): message
        case .writeFailed(let path, let reason): "cannot write \(path): \(reason)"
        }
    }
}

/// A generated text with its ground truth: the list of long-range scoring events.
///
/// ## Generators (all draws from one ``SyntheticRandom`` seeded with `seed`)
/// Distances come from ``HarmonicDistanceSampler`` (P(d) ∝ 1/d), truncated to the room left.
///
/// - `brackets` / `quotes`: the top level alternates a filler gap of `below(8)` units with a pair
///   whose distance is drawn with bound `min(maxDistance, remaining − 1)`. A pair is its opener, an
///   interior of `d − 1` units and its closer (type drawn uniformly). Inside an interior, while
///   depth < 6, each free position starts a nested pair with probability 0.04 (distance drawn with
///   bound = room left in the interior − 1), otherwise takes one filler unit. So the closer at
///   `position` is exactly `distance` units after its opener, and pairs nest properly.
///   For `quotes` only, quotations are word-aligned: a top-level quotation waits for the current
///   word and its space to finish, nested ones may start only where a word would start (with
///   probability 0.15 there), the interior starts a fresh word and a closing mark ends the word
///   (the next filler unit is a space).
/// - `recall`: records `@K` + filler + `?K` + newline, `K` uniform in A–Z, distance `d` (key to
///   reproduced key) = 1 + draw with bound `min(maxDistance, remaining − 3) − 1`, so `d ≥ 2`; the
///   filler between has `d − 2` units and starts with a space. A tail too short for a record
///   (< 5 units) is filler.
/// Filler for `brackets`/`recall` is words of random lowercase letters separated by single spaces;
/// for `quotes` it is words from a fixed list of 48 common English words with occasional `,` and `.`.
public struct SyntheticCorpus: Sendable {
    public let options: SyntheticOptions
    /// The text, exactly `options.size` units long.
    public let text: String
    /// Scoring events sorted by `position`.
    public let events: [SyntheticEvent]

    /// Generates the corpus described by `options` (throws when an option is out of range).
    public init(_ options: SyntheticOptions) throws {
        try options.validate()
        self.options = options
        var builder = SyntheticBuilder(options: options)
        switch options.task {
        case .brackets: builder.nestedPairs(pairs: [("(", ")"), ("[", "]"), ("{", "}")])
        case .quotes: builder.nestedPairs(pairs: [("“", "”"), ("‘", "’"), ("«", "»")])
        case .recall: builder.recall()
        }
        text = String(builder.units)
        events = builder.events.sorted { $0.position < $1.position }
    }

    /// Writes the text to `url`, gzip-compressed when `gzip` is true (default: when the path ends
    /// with `.gz`), plain UTF-8 otherwise. The file appears atomically (temporary name + rename).
    public func write(to url: URL, gzip: Bool? = nil) throws {
        let compress = gzip ?? (url.pathExtension.lowercased() == "gz")
        if compress {
            let writer = try GzipWriter(url: url)
            try writer.write(text)
            try writer.finish()
        } else {
            do { try Data(text.utf8).write(to: url, options: .atomic) } catch {
                throw SyntheticCorpusError.writeFailed(path: url.path, reason: SystemError.reason(error))
            }
        }
    }

    /// The sidecar file's contents: `{"events":[…],"max_distance":…,"seed":…,"size":…,"task":…,
    /// "unit":"grapheme"}` with sorted keys, one event object per line.
    public func eventsJSON() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var out = "{\n"
        out += "\"max_distance\":\(options.maxDistance),\"seed\":\(options.seed),\"size\":\(options.size),"
        out += "\"task\":\"\(options.task.rawValue)\",\"unit\":\"grapheme\",\n\"events\":[\n"
        for (index, event) in events.enumerated() {
            out += String(decoding: try encoder.encode(event), as: UTF8.self)
            out += index + 1 < events.count ? ",\n" : "\n"
        }
        out += "]}\n"
        return Data(out.utf8)
    }

    /// Writes ``eventsJSON()`` to `url` atomically.
    public func writeEvents(to url: URL) throws {
        do { try eventsJSON().write(to: url, options: .atomic) } catch let error as SyntheticCorpusError {
            throw error
        } catch {
            throw SyntheticCorpusError.writeFailed(path: url.path, reason: SystemError.reason(error))
        }
    }

    /// The sidecar path for a corpus written to `url`: `url` + `.events.json`.
    public static func eventsURL(for url: URL) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(url.lastPathComponent + ".events.json")
    }

    /// Decodes a sidecar written by ``writeEvents(to:)``.
    public static func readEvents(from data: Data) throws -> (options: SyntheticOptions, events: [SyntheticEvent]) {
        struct File: Decodable {
            var task: SyntheticTask; var size: Int; var seed: UInt64; var events: [SyntheticEvent]
            var maxDistance: Int
            enum CodingKeys: String, CodingKey { case task, size, seed, events; case maxDistance = "max_distance" }
        }
        let file = try JSONDecoder().decode(File.self, from: data)
        return (SyntheticOptions(task: file.task, size: file.size, maxDistance: file.maxDistance, seed: file.seed),
                file.events)
    }
}

/// Mutable state of one generation run.
struct SyntheticBuilder {
    let options: SyntheticOptions
    var random: SyntheticRandom
    let sampler: HarmonicDistanceSampler
    var units: [Character] = []
    var events: [SyntheticEvent] = []
    var filler: FillerSource

    static let maxDepth = 6
    static let nestProbability = 0.04
    static let wordNestProbability = 0.15

    /// Quotations (`quotes`) open at word starts and end words; brackets go anywhere.
    var wordAligned: Bool { options.task == .quotes }

    init(options: SyntheticOptions) {
        self.options = options
        random = SyntheticRandom(seed: options.seed)
        sampler = HarmonicDistanceSampler(maximum: options.maxDistance)
        filler = FillerSource(style: options.task == .quotes ? .words : .letters)
        units.reserveCapacity(options.size)
    }

    mutating func appendFiller(_ count: Int) {
        for _ in 0..<count { units.append(filler.next(using: &random)) }
    }

    mutating func nestedPairs(pairs: [(Character, Character)]) {
        var remaining = options.size
        while remaining > 0 {
            let gap = min(random.below(8), remaining)
            appendFiller(gap)
            remaining -= gap
            if wordAligned {
                // Quotations open at a word start: finish the current word and its space.
                while remaining > 0 && !filler.atWordStart {
                    appendFiller(1)
                    remaining -= 1
                }
            }
            if remaining >= 2 {
                let d = sampler.draw(bound: min(options.maxDistance, remaining - 1), using: &random)
                pair(distance: d, depth: 0, pairs: pairs)
                remaining -= d + 1
            } else if remaining == 1 {
                appendFiller(1)
                remaining = 0
            }
        }
    }

    /// Opener, `d − 1` interior units (filler and nested pairs), closer.
    mutating func pair(distance d: Int, depth: Int, pairs: [(Character, Character)]) {
        let (opener, closer) = pairs[random.below(pairs.count)]
        let openerPosition = units.count
        units.append(opener)
        if wordAligned { filler.reset() }
        var room = d - 1
        while room > 0 {
            let mayNest = depth + 1 < Self.maxDepth && room >= 2 && (!wordAligned || filler.atWordStart)
            if mayNest && random.chance(wordAligned ? Self.wordNestProbability : Self.nestProbability) {
                let child = sampler.draw(bound: room - 1, using: &random)
                pair(distance: child, depth: depth + 1, pairs: pairs)
                room -= child + 1
            } else {
                appendFiller(1)
                room -= 1
            }
        }
        events.append(SyntheticEvent(position: units.count, openerPosition: openerPosition, distance: d,
                                     expected: String(closer), depth: depth))
        units.append(closer)
        if wordAligned { filler.endWord() }
    }

    mutating func recall() {
        let keys = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        var remaining = options.size
        while remaining > 0 {
            guard remaining >= 5 else { appendFiller(remaining); break }
            let bound = min(options.maxDistance, remaining - 3)
            let d = bound <= 2 ? 2 : 1 + sampler.draw(bound: bound - 1, using: &random)
            let key = keys[random.below(keys.count)]
            units.append("@")
            let keyPosition = units.count
            units.append(key)
            filler.endWord()
            appendFiller(d - 2)
            units.append("?")
            events.append(SyntheticEvent(position: units.count, openerPosition: keyPosition, distance: d,
                                         expected: String(key), depth: 0))
            units.append(key)
            units.append("\n")
            remaining -= d + 3
        }
    }
}

/// Filler units: words separated by single spaces.
struct FillerSource {
    enum Style { case letters, words }
    let style: Style
    private var pending: [Character] = []
    private var lastWasSpace = true

    static let words: [String] = [
        "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by",
        "on", "not", "he", "she", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an",
        "had", "they", "you", "were", "their", "one", "all", "we", "can", "her", "has", "there", "been",
        "if", "more", "when", "will", "would", "who",
    ]
    static let letters = Array("abcdefghijklmnopqrstuvwxyz")

    init(style: Style) { self.style = style }

    /// Starts a fresh word (after an opening quotation mark).
    mutating func reset() { pending.removeAll(); lastWasSpace = true }

    /// Drops the rest of the current word; the next unit is a space (after a closing mark or a key).
    mutating func endWord() { pending.removeAll(); lastWasSpace = false }

    /// Whether the next unit starts a new word.
    var atWordStart: Bool { pending.isEmpty && lastWasSpace }

    mutating func next(using random: inout SyntheticRandom) -> Character {
        if pending.isEmpty {
            if !lastWasSpace {
                lastWasSpace = true
                return " "
            }
            switch style {
            case .letters:
                let length = 1 + random.below(8)
                pending = (0..<length).map { _ in Self.letters[random.below(26)] }
            case .words:
                var word = Array(Self.words[random.below(Self.words.count)])
                let mark = random.below(16)
                if mark == 0 { word.append(",") } else if mark == 1 { word.append(".") }
                pending = word
            }
            pending.reverse()
        }
        lastWasSpace = false
        return pending.removeLast()
    }
}
