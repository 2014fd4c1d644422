import ArgumentParser
import Foundation
import TextCorpus

/// `charrnn corpus inspect PATH…`: sizes, units, vocabulary, most frequent units, invalid bytes, splits.
struct CorpusInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Report bytes, units, vocabulary, most frequent units, invalid bytes and split sizes.",
        discussion: "PATH is a plain UTF-8 or gzip file, a zip archive (its members that look like text, in archive order), ARCHIVE:MEMBER for one member (a file of that exact name wins), a directory (read recursively; zip archives inside it are skipped) or - for standard input. Formats are told apart by magic bytes, not names. With --valid-file/--test-file the splits are those files."
    )

    @Argument(help: "Files, directories, zip archives, ARCHIVE:MEMBER or - (standard input).")
    var paths: [String]

    @OptionGroup var tokenizer: TokenizerArguments
    @OptionGroup var load: CorpusLoadArguments

    @Option(parsing: .unconditional, help: "How many of the most frequent units to list.")
    var top: Int = 20

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give at least one PATH") }
        try FlagCheck.atLeast(0, top, "--top")
    }

    /// The JSON report (keys snake_case).
    struct Report: Codable {
        struct Frequency: Codable {
            var unit: String
            var count: Int
        }
        struct Splits: Codable {
            var train: Int
            var validation: Int
            var test: Int
        }
        var sources: [String]
        var files: Int
        var gzipFiles: Int
        var zipMembers: Int
        var bytes: Int64
        var storedBytes: Int64
        var units: Int
        var distinctUnits: Int
        var vocabularySize: Int
        var unknownUnits: Int
        var invalidBytes: Int64
        var replacements: Int64
        var tokenizer: TokenizerOptions
        var splits: Splits
        var topUnits: [Frequency]
        var icuVersion: String
    }

    func run() throws {
        try CLIErrors.reporting {
            let corpus = try load.load(paths, tokenizer: tokenizer.options)
            let stats = corpus.statistics
            let report = Report(
                sources: try CorpusReader(paths: paths + load.validationFiles + load.testFiles).sources.map(\.description),
                files: stats.reading.files, gzipFiles: stats.reading.gzipFiles, zipMembers: stats.reading.zipMembers, bytes: stats.reading.bytes,
                storedBytes: stats.reading.storedBytes, units: stats.units, distinctUnits: stats.distinctUnits,
                vocabularySize: corpus.vocabulary.count, unknownUnits: stats.unknownUnits,
                invalidBytes: stats.reading.invalidBytes, replacements: stats.reading.replacements,
                tokenizer: tokenizer.options,
                splits: Report.Splits(train: corpus.splits.train.count, validation: corpus.splits.validation.count,
                                      test: corpus.splits.test.count),
                topUnits: stats.frequencies.prefix(top).map { Report.Frequency(unit: $0.unit, count: $0.count) },
                icuVersion: ICUInfo.version)
            if json {
                let encoder = JSONEncoder()
                encoder.keyEncodingStrategy = .convertToSnakeCase
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                try writeStandardOutput(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                try writeStandardOutput(Self.table(report))
            }
        }
    }

    static func grouped(_ value: some BinaryInteger) -> String {
        let digits = String(value)
        var out = ""
        for (k, character) in digits.reversed().enumerated() {
            if k > 0 && k % 3 == 0 && character != "-" { out.append(",") }
            out.append(character)
        }
        return String(out.reversed())
    }

    static func table(_ r: Report) -> String {
        let options = r.tokenizer
        var lines: [String] = []
        let sourceText = r.sources.count == 1 ? r.sources[0] : "\(r.sources.count) inputs"
        lines.append("sources       \(sourceText) (\(r.files) file\(r.files == 1 ? "" : "s"), \(r.gzipFiles) gzip\(r.zipMembers > 0 ? ", \(r.zipMembers) zip member\(r.zipMembers == 1 ? "" : "s")" : ""))")
        lines.append("bytes         \(grouped(r.bytes)) decoded, \(grouped(r.storedBytes)) stored")
        lines.append("units         \(grouped(r.units)) \(options.unit.rawValue)s (normalization \(options.normalization.rawValue)\(options.caseFold ? ", case-folded" : ""))")
        lines.append("distinct      \(grouped(r.distinctUnits)) units in the whole corpus")
        lines.append("vocabulary    \(grouped(r.vocabularySize)) ids (<unk> included; built from the training split)")
        lines.append("unknown       \(grouped(r.unknownUnits)) units encode as <unk>")
        lines.append("invalid       \(grouped(r.invalidBytes)) ill-formed UTF-8 bytes, \(grouped(r.replacements)) replaced by U+FFFD")
        lines.append("splits        train \(grouped(r.splits.train)) · validation \(grouped(r.splits.validation)) · test \(grouped(r.splits.test))")
        if !r.topUnits.isEmpty {
            lines.append("most frequent units:")
            for (rank, entry) in r.topUnits.enumerated() {
                let share = r.units > 0 ? 100 * Double(entry.count) / Double(r.units) : 0
                let rankText = String(rank + 1).leftPadded(to: 4)
                let unitText = ("\"" + escapedUnit(entry.unit) + "\"").rightPadded(to: 12)
                lines.append("\(rankText)  \(unitText) \(grouped(entry.count).leftPadded(to: 12))  \(String(format: "%6.2f", share))%")
            }
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
    func rightPadded(to width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
