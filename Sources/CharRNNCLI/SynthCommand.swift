import ArgumentParser
import Foundation
import TextCorpus

/// `charrnn corpus synth TASK …`: writes a synthetic long-range corpus with known answers.
/// All the work is ``SyntheticCorpus`` in the library, so the CLI and library outputs are identical.
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write a synthetic long-range corpus (brackets, recall or quotes) with ground truth.",
        discussion: """
        The output is deterministic: the same TASK, --size, --max-distance and --seed give the same bytes \
        on every machine (SplitMix64 stream, documented in SyntheticCorpus). Distances between an opener \
        and its closer (or a key and its reproduction) are drawn with P(d) ∝ 1/d up to --max-distance.
        The file is gzip-compressed when its name ends in .gz or with --gzip. With --events, the scoring \
        events are also written to FILE.events.json (positions are 0-based grapheme indices).
        """
    )

    @Argument(help: "Task: brackets, recall or quotes.")
    var task: SyntheticTask

    @Option(parsing: .unconditional, help: "Length of the text in units (characters).")
    var size: Int = 200_000

    @Option(parsing: .unconditional, help: "Largest opener-to-closer (key-to-cue) distance in units.")
    var maxDistance: Int = 400

    @Option(parsing: .unconditional, help: "Seed of the random stream.")
    var seed: UInt64 = 1

    @Option(name: [.short, .customLong("output")], help: "Output file.")
    var output: String

    @Flag(help: "Compress with gzip even if the file name does not end in .gz.")
    var gzip = false

    @Flag(help: "Also write the scoring events to FILE.events.json.")
    var events = false

    func validate() throws {
        do {
            try SyntheticOptions(task: task, size: size, maxDistance: maxDistance, seed: seed).validate()
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() throws {
        try CLIErrors.reporting {
            // validate() checks --size against the machine's memory before the text is built.
            let corpus = try SyntheticCorpus(SyntheticOptions(task: task, size: size, maxDistance: maxDistance, seed: seed))
            let url = URL(fileURLWithPath: output)
            try corpus.write(to: url, gzip: gzip ? true : nil)
            if events { try corpus.writeEvents(to: SyntheticCorpus.eventsURL(for: url)) }
            let distances = corpus.events.map(\.distance)
            try StandardOutput.print("wrote \(output): \(task.rawValue), \(size) units, \(corpus.events.count) events, "
                  + "distances \(distances.min() ?? 0)…\(distances.max() ?? 0)")
        }
    }
}

extension SyntheticTask: ExpressibleByArgument {}
