import ArgumentParser
import Foundation
import TextCorpus

/// `charrnn corpus tokenize PATH`: prints the units of the input, to check segmentation.
struct CorpusTokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the units of the input (to check segmentation).",
        discussion: "--format json prints one JSON array of strings; --format lines prints one unit per line, with control characters, separators and backslash escaped (\\n, \\t, \\r, \\\\, \\u{XXXX})."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json, lines
    }

    @Argument(help: "A file, directory or - (standard input).")
    var path: String

    @OptionGroup var tokenizer: TokenizerArguments

    @Option(help: "Output format: json or lines.")
    var format: Format = .lines

    @Flag(help: "Replace ill-formed UTF-8 with U+FFFD instead of failing.")
    var replaceInvalid = false

    func run() throws {
        try CLIErrors.reporting {
            // Everything is collected first, so an error leaves no partial output.
            let reader = try CorpusReader(paths: [path], options: CorpusReader.Options(replaceInvalid: replaceInvalid))
            let segmenter = try Tokenizer(tokenizer.options).makeSegmenter()
            var sink = Collector()
            try reader.read({ chunk, _ in try segmenter.feed(chunk, into: &sink) },
                            endOfSource: { _ in try segmenter.finish(into: &sink) })
            switch format {
            case .json:
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.withoutEscapingSlashes]
                try writeStandardOutput(String(decoding: try encoder.encode(sink.units), as: UTF8.self))
            case .lines:
                if !sink.units.isEmpty { try writeStandardOutput(sink.units.map(escapedUnit).joined(separator: "\n")) }
            }
        }
    }

    struct Collector: UnitSink {
        var units: [String] = []
        mutating func ascii(_ byte: UInt8) { units.append(String(Unicode.Scalar(byte))) }
        mutating func unit(utf8: UnsafeBufferPointer<UInt8>) { units.append(String(decoding: utf8, as: UTF8.self)) }
    }
}
