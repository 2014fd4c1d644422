import Foundation

/// A corpus as model ids: one id per unit, the vocabulary, and the train/validation/test split.
///
/// Loading streams the inputs chunk by chunk; the ids (`TokenIDs`: 1 byte per unit for a vocabulary of at
/// most 256 ids, 2 for at most 65,536, else 4) are the only memory that grows with the corpus. Building the
/// vocabulary from the training split needs one pass: units get provisional ids in order of first
/// appearance (stored as narrow as they allow, widened when one does not fit), the training range is
/// counted, the ids are remapped in place and then stored in the narrowest width of the vocabulary.
public struct TokenCorpus: Sendable {
    /// Every unit of the corpus, in order (`ids.count` units).
    public let ids: TokenIDs
    public let vocabulary: Vocabulary
    public let splits: CorpusSplits
    public let statistics: Statistics
    /// The inputs that are the validation split as published (empty when it was cut by a fraction).
    public let validationFiles: [String]
    /// The inputs that are the test split as published (empty when it was cut by a fraction).
    public let testFiles: [String]

    /// Facts about how the corpus was read.
    public struct Statistics: Sendable, Equatable {
        /// What the reader saw (bytes, invalid bytes, files).
        public var reading: CorpusReader.Statistics
        /// Number of units.
        public var units: Int
        /// Distinct units in the whole corpus (before `maxVocab`/`minCount`).
        public var distinctUnits: Int
        /// Units encoded as `<unk>` (outside the vocabulary).
        public var unknownUnits: Int
        /// Every distinct unit with its count over the whole corpus, most frequent first (ties by UTF-8 order).
        public var frequencies: [(unit: String, count: Int)]

        public static func == (lhs: Statistics, rhs: Statistics) -> Bool {
            lhs.reading == rhs.reading && lhs.units == rhs.units && lhs.distinctUnits == rhs.distinctUnits
                && lhs.unknownUnits == rhs.unknownUnits
                && lhs.frequencies.map(\.unit) == rhs.frequencies.map(\.unit)
                && lhs.frequencies.map(\.count) == rhs.frequencies.map(\.count)
        }
    }

    /// The training ids.
    public var train: TokenIDs { ids[splits.train] }
    /// The validation ids.
    public var validation: TokenIDs { ids[splits.validation] }
    /// The test ids.
    public var test: TokenIDs { ids[splits.test] }

    public init(ids: TokenIDs, vocabulary: Vocabulary, splits: CorpusSplits, statistics: Statistics,
                validationFiles: [String] = [], testFiles: [String] = []) {
        self.ids = ids
        self.vocabulary = vocabulary
        self.splits = splits
        self.statistics = statistics
        self.validationFiles = validationFiles
        self.testFiles = testFiles
    }

    /// Loads corpus files into ids with a vocabulary built from the training split (the trainer's one call).
    ///
    /// - Parameters:
    ///   - paths: files, directories, or "-" for standard input.
    ///   - tokenizer: how units are cut.
    ///   - validationFraction, testFraction: split sizes as fractions of the units of `paths`; a fraction is
    ///     ignored when its split is given as files.
    ///   - validationFiles, testFiles: inputs (like `paths`) that are the validation / test split as
    ///     published; `paths` is then the training split (less the other split's fraction, if that one is
    ///     not given as files). Ids are laid out train, validation, test.
    ///   - maxVocab: at most this many ids, `<unk>` included.
    ///   - minCount: units seen fewer times in the training split become `<unk>`.
    ///   - reader: reading options (`replaceInvalid`, chunk size).
    ///   - cache: a token cache to map the ids from, or to store them in after reading (nil: none). Inputs
    ///     on standard input or FIFOs are never cached. See `TokenCache`.
    /// - Throws: `CorpusError` (missing/unreadable/binary/corrupt input, `emptyCorpus` also for an empty
    ///   split file, …); the same with or without a cache (cache problems are warnings).
    public static func load(
        paths: [String], tokenizer: TokenizerOptions = TokenizerOptions(),
        validationFraction: Double = 0.05, testFraction: Double = 0.05,
        validationFiles: [String] = [], testFiles: [String] = [],
        maxVocab: Int? = nil, minCount: Int = 1,
        reader options: CorpusReader.Options = CorpusReader.Options(),
        cache: TokenCache? = nil
    ) throws -> TokenCorpus {
        if let maxVocab, maxVocab < 2 {
            throw CorpusError.invalidOption(name: "--max-vocab", reason: "must be at least 2 (<unk> and one unit), got \(maxVocab)")
        }
        let reader = try CorpusReader(paths: paths, options: options)
        let validationReader = validationFiles.isEmpty ? nil : try CorpusReader(paths: validationFiles, options: options)
        let testReader = testFiles.isEmpty ? nil : try CorpusReader(paths: testFiles, options: options)
        func read() throws -> TokenCorpus {
            try load(reader: reader, validationReader: validationReader, testReader: testReader, tokenizer: tokenizer,
                     validationFraction: validationFraction, testFraction: testFraction, validationFiles: validationFiles,
                     testFiles: testFiles, maxVocab: maxVocab, minCount: minCount)
        }
        guard let cache, let train = TokenCache.inputs(of: reader), let validation = TokenCache.inputs(of: validationReader),
              let test = TokenCache.inputs(of: testReader) else { return try read() }
        let key = TokenCacheKey(train: train.names, validation: validation.names, test: test.names, tokenizer: tokenizer,
                                validationFraction: validationFraction, testFraction: testFraction, maxVocab: maxVocab,
                                minCount: minCount, replaceInvalid: options.replaceInvalid)
        return try cache.corpus(key: key, files: train.files + validation.files + test.files, build: read)
    }

    /// `load(paths:…)` from readers already made.
    private static func load(
        reader: CorpusReader, validationReader: CorpusReader?, testReader: CorpusReader?, tokenizer: TokenizerOptions,
        validationFraction: Double, testFraction: Double, validationFiles: [String], testFiles: [String],
        maxVocab: Int?, minCount: Int
    ) throws -> TokenCorpus {
        let sources = reader.sources.map(\.description).joined(separator: ", ")
        var sink = ProvisionalSink()
        // At most one unit per byte. The sizes declared by files (gzip trailers, zip directories) are hints,
        // not reservations: the buffer takes at most `TokenIDBuffer.maximumReservation` from them and grows
        // by realloc beyond it.
        sink.ids.reserve(hint: reservationHint(reader, validationReader, testReader))
        var reading = try feed(reader, tokenizer: tokenizer, into: &sink)
        let positional = sink.ids.count
        if positional == 0 { throw CorpusError.emptyCorpus(sources: sources) }
        guard validationReader != nil || testReader != nil else {
            return try build(sink: &sink, reading: reading, sources: sources, tokenizer: tokenizer,
                             validationFraction: validationFraction, testFraction: testFraction,
                             maxVocab: maxVocab, minCount: minCount)
        }
        let splits = try appendSplitFiles(validation: validationReader, test: testReader, tokenizer: tokenizer,
                                          validationFraction: validationFraction, testFraction: testFraction,
                                          into: &sink, reading: &reading)
        let corpus = try build(sink: &sink, reading: reading, sources: sources, tokenizer: tokenizer,
                               splits: splits, maxVocab: maxVocab, minCount: minCount)
        return TokenCorpus(ids: corpus.ids, vocabulary: corpus.vocabulary, splits: corpus.splits,
                           statistics: corpus.statistics, validationFiles: validationFiles, testFiles: testFiles)
    }

    /// The same as `load(paths:…)` for text already in memory (for example a generated corpus).
    /// `name` stands for the source in errors.
    public static func load(
        text: String, name: String = "<text>", tokenizer: TokenizerOptions = TokenizerOptions(),
        validationFraction: Double = 0.05, testFraction: Double = 0.05,
        maxVocab: Int? = nil, minCount: Int = 1
    ) throws -> TokenCorpus {
        if let maxVocab, maxVocab < 2 {
            throw CorpusError.invalidOption(name: "--max-vocab", reason: "must be at least 2 (<unk> and one unit), got \(maxVocab)")
        }
        var sink = ProvisionalSink()
        var text = text
        sink.ids.reserve(hint: text.utf8.count)
        let segmenter = try UnitSegmenter(options: tokenizer)
        try text.withUTF8 { try segmenter.feed($0, into: &sink) }
        try segmenter.finish(into: &sink)
        try sink.ids.checkAllocation(sources: name)
        var reading = CorpusReader.Statistics()
        reading.bytes = Int64(text.utf8.count)
        reading.storedBytes = reading.bytes
        return try build(sink: &sink, reading: reading, sources: name, tokenizer: tokenizer,
                         validationFraction: validationFraction, testFraction: testFraction,
                         maxVocab: maxVocab, minCount: minCount)
    }

    /// Splits, builds the vocabulary from the training range of the provisional ids, and remaps them in place.
    private static func build(
        sink: inout ProvisionalSink, reading: CorpusReader.Statistics, sources: String, tokenizer: TokenizerOptions,
        validationFraction: Double, testFraction: Double, maxVocab: Int?, minCount: Int
    ) throws -> TokenCorpus {
        if sink.ids.count == 0 { throw CorpusError.emptyCorpus(sources: sources) }
        let splits = try CorpusSplits(count: sink.ids.count, validationFraction: validationFraction, testFraction: testFraction)
        return try build(sink: &sink, reading: reading, sources: sources, tokenizer: tokenizer, splits: splits,
                         maxVocab: maxVocab, minCount: minCount)
    }

    /// `build` with the splits already laid out over `sink.ids`.
    private static func build(
        sink: inout ProvisionalSink, reading: CorpusReader.Statistics, sources: String, tokenizer: TokenizerOptions,
        splits: CorpusSplits, maxVocab: Int?, minCount: Int
    ) throws -> TokenCorpus {
        let ids = sink.ids
        sink.ids = TokenIDBuffer()
        if ids.count == 0 { throw CorpusError.emptyCorpus(sources: sources) }

        // Provisional ids: 0..<128 are ASCII characters, then units in order of first appearance.
        let provisionalUnits = sink.provisionalUnits
        var trainCounts = [Int](repeating: 0, count: provisionalUnits.count)
        var allCounts = [Int](repeating: 0, count: provisionalUnits.count)
        let trainEnd = splits.train.upperBound
        allCounts.withUnsafeMutableBufferPointer { all in
            trainCounts.withUnsafeMutableBufferPointer { train in
                ids.forEach { k, id in
                    all[Int(id)] += 1
                    if k < trainEnd { train[Int(id)] += 1 }
                }
            }
        }
        var counted: [(String, Int)] = []
        for (id, count) in trainCounts.enumerated() where count > 0 { counted.append((provisionalUnits[id], count)) }
        let vocabulary = Vocabulary(counted: counted, tokenizer: tokenizer, maxVocab: maxVocab, minCount: minCount)
        let remap = provisionalUnits.map { vocabulary.id(of: $0) }
        // Units remapped to <unk> are those whose provisional id maps to it.
        var unknown = 0
        for (provisional, id) in remap.enumerated() where id == Vocabulary.unknownID { unknown += allCounts[provisional] }
        // A vocabulary can have one id more than there were provisional ids (<unk>).
        if !ids.widen(forIDsBelow: vocabulary.count) { try ids.checkAllocation(sources: sources) }
        ids.remap(remap)
        ids.narrow()
        var frequencies: [(unit: String, count: Int)] = []
        for (id, count) in allCounts.enumerated() where count > 0 { frequencies.append((provisionalUnits[id], count)) }
        frequencies.sort { $0.count != $1.count ? $0.count > $1.count : $0.unit.utf8.lexicographicallyPrecedes($1.unit.utf8) }
        let statistics = Statistics(reading: reading, units: ids.count, distinctUnits: frequencies.count,
                                    unknownUnits: unknown, frequencies: frequencies)
        return TokenCorpus(ids: TokenIDs(storage: ids, bounds: 0..<ids.count), vocabulary: vocabulary, splits: splits,
                           statistics: statistics)
    }

    /// Encodes corpus files with an existing vocabulary (its tokenizer options included), counting units
    /// outside it in `statistics.unknownUnits`: for evaluating or fine-tuning a trained model on a new
    /// corpus. `frequencies` lists vocabulary ids' units with their counts (`<unk>` for the unknowns).
    /// Splits as in `load(paths:…)`: `validationFiles`/`testFiles` are those splits as published, and a
    /// split not given as files is cut from `paths` by its fraction. `cache`: as in `load(paths:…)`, keyed
    /// by the inputs, the fractions and the vocabulary itself (`TokenCacheKey(…encodingWith:…)`).
    public static func encode(
        paths: [String], vocabulary: Vocabulary,
        validationFraction: Double = 0, testFraction: Double = 0,
        validationFiles: [String] = [], testFiles: [String] = [],
        reader options: CorpusReader.Options = CorpusReader.Options(),
        cache: TokenCache? = nil
    ) throws -> TokenCorpus {
        let reader = try CorpusReader(paths: paths, options: options)
        let validationReader = validationFiles.isEmpty ? nil : try CorpusReader(paths: validationFiles, options: options)
        let testReader = testFiles.isEmpty ? nil : try CorpusReader(paths: testFiles, options: options)
        func read() throws -> TokenCorpus {
            try encode(reader: reader, validationReader: validationReader, testReader: testReader, vocabulary: vocabulary,
                       validationFraction: validationFraction, testFraction: testFraction,
                       validationFiles: validationFiles, testFiles: testFiles)
        }
        guard let cache, let train = TokenCache.inputs(of: reader), let validation = TokenCache.inputs(of: validationReader),
              let test = TokenCache.inputs(of: testReader) else { return try read() }
        let key = TokenCacheKey(train: train.names, validation: validation.names, test: test.names, encodingWith: vocabulary,
                                validationFraction: validationFraction, testFraction: testFraction,
                                replaceInvalid: options.replaceInvalid)
        let corpus = try cache.corpus(key: key, files: train.files + validation.files + test.files, build: read)
        // A mapped file rebuilds its vocabulary from the stored units, which the key pins to `vocabulary`'s.
        return TokenCorpus(ids: corpus.ids, vocabulary: vocabulary, splits: corpus.splits, statistics: corpus.statistics,
                           validationFiles: corpus.validationFiles, testFiles: corpus.testFiles)
    }

    /// `encode(paths:…)` from readers already made.
    private static func encode(
        reader: CorpusReader, validationReader: CorpusReader?, testReader: CorpusReader?, vocabulary: Vocabulary,
        validationFraction: Double, testFraction: Double, validationFiles: [String], testFiles: [String]
    ) throws -> TokenCorpus {
        var sink = EncodingSink(vocabulary: vocabulary)
        sink.ids.reserve(hint: reservationHint(reader, validationReader, testReader))
        var reading = try feed(reader, tokenizer: vocabulary.tokenizer, into: &sink)
        if sink.ids.count == 0 { throw CorpusError.emptyCorpus(sources: reader.sources.map(\.description).joined(separator: ", ")) }
        let splits = try appendSplitFiles(validation: validationReader, test: testReader, tokenizer: vocabulary.tokenizer,
                                          validationFraction: validationFraction, testFraction: testFraction,
                                          into: &sink, reading: &reading)
        let buffer = sink.ids
        buffer.narrow()
        var counts = [Int](repeating: 0, count: vocabulary.count)
        counts.withUnsafeMutableBufferPointer { counts in buffer.forEach { _, id in counts[Int(id)] += 1 } }
        let ids = TokenIDs(storage: buffer, bounds: 0..<buffer.count)
        var frequencies: [(unit: String, count: Int)] = []
        for (id, count) in counts.enumerated() where count > 0 { frequencies.append((vocabulary.units[id], count)) }
        frequencies.sort { $0.count != $1.count ? $0.count > $1.count : $0.unit.utf8.lexicographicallyPrecedes($1.unit.utf8) }
        let statistics = Statistics(reading: reading, units: ids.count, distinctUnits: frequencies.count,
                                    unknownUnits: sink.unknown, frequencies: frequencies)
        return TokenCorpus(ids: ids, vocabulary: vocabulary, splits: splits, statistics: statistics,
                           validationFiles: validationFiles, testFiles: testFiles)
    }

    /// After the positional inputs' units in `sink`, reads the split files and orders the ids as train,
    /// validation, test; returns those splits. A split not given as files is cut from the positional
    /// units by its fraction, as without files.
    static func appendSplitFiles<S: CollectingUnitSink>(
        validation validationReader: CorpusReader?, test testReader: CorpusReader?, tokenizer: TokenizerOptions,
        validationFraction: Double, testFraction: Double, into sink: inout S, reading: inout CorpusReader.Statistics
    ) throws -> CorpusSplits {
        let cut = try CorpusSplits(count: sink.ids.count, validationFraction: validationReader == nil ? validationFraction : 0,
                                   testFraction: testReader == nil ? testFraction : 0)
        func feedSplit(_ splitReader: CorpusReader?) throws -> Int {
            guard let splitReader else { return 0 }
            let before = sink.ids.count
            reading.add(try feed(splitReader, tokenizer: tokenizer, into: &sink))
            if sink.ids.count == before {
                throw CorpusError.emptyCorpus(sources: splitReader.sources.map(\.description).joined(separator: ", "))
            }
            return sink.ids.count - before
        }
        let validationCount = try feedSplit(validationReader) + cut.validation.count
        let testCount = try feedSplit(testReader) + cut.test.count
        if validationReader != nil && !cut.test.isEmpty {
            // Read as [train, test cut, validation file]: rotate the tail to [validation file, test cut].
            // Three in-place reversals (no copy of the corpus).
            let start = cut.test.lowerBound, middle = sink.ids.count - cut.test.count
            let end = sink.ids.count
            sink.ids.reverse(start..<end)
            sink.ids.reverse(start..<middle)
            sink.ids.reverse(middle..<end)
        }
        return CorpusSplits(trainCount: cut.train.count, validationCount: validationCount, testCount: testCount)
    }

    /// Reads every source through a fresh segmenter per source (a file is a document: no unit spans two files).
    static func feed<S: UnitSink>(_ reader: CorpusReader, tokenizer: TokenizerOptions, into sink: inout S) throws
        -> CorpusReader.Statistics {
        let segmenter = try UnitSegmenter(options: tokenizer)
        let statistics = try reader.read({ chunk, _ in
            try segmenter.feed(chunk, into: &sink)
            try sink.checkAllocation(sources: reader.sources.map(\.description).joined(separator: ", "))
        }, endOfSource: { _ in
            try segmenter.finish(into: &sink)
        })
        try sink.checkAllocation(sources: reader.sources.map(\.description).joined(separator: ", "))
        return statistics
    }

    /// The units the inputs declare (an upper bound taken as a hint only; overflow-safe).
    static func reservationHint(_ readers: CorpusReader?...) -> Int {
        MemorySize.sum(readers.map { $0?.estimatedDecodedBytes() ?? 0 }) ?? Int.max
    }
}

/// Assigns provisional ids: ASCII byte b → b, other units → 128, 129, … in order of first appearance.
/// A sink that keeps the ids of the units it is fed.
protocol CollectingUnitSink: UnitSink {
    var ids: TokenIDBuffer { get set }
}

extension UnitSink {
    /// Throws `TokenStorageError.outOfMemory` when the sink could not store its ids (other sinks: never).
    func checkAllocation(sources: @autoclosure () -> String) throws {
        try (self as? any CollectingUnitSink)?.ids.checkAllocation(sources: sources())
    }
}

struct ProvisionalSink: CollectingUnitSink {
    var ids = TokenIDBuffer()
    var index = UnitTable()
    var others: [String] = []

    var provisionalUnits: [String] {
        (0..<128).map { String(Unicode.Scalar(UInt8($0))) } + others
    }

    @inline(__always)
    mutating func ascii(_ byte: UInt8) { ids.append(Int32(byte)) }

    mutating func unit(utf8: UnsafeBufferPointer<UInt8>) {
        let key = UnitKey(utf8)
        if let id = index.find(key) {
            ids.append(id)
        } else {
            let id = Int32(128 + others.count)
            index.insert(key, id)
            others.append(String(decoding: utf8, as: UTF8.self))
            ids.append(id)
        }
    }
}
