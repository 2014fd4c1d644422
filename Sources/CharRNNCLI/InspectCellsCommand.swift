import ArgumentParser
import CharRNN
import Foundation
import NeuralNet
import TextCorpus

extension TextSyntax: ExpressibleByArgument {}

/// `charrnn inspect-cells`: which hidden units of a trained model track quotes, brackets, line
/// position, comments and strings, and how saturated its gates are.
struct InspectCellsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect-cells",
        abstract: "Find interpretable cells: units tracking quotes, brackets, line position, comments; gate saturation.",
        discussion: """
        Runs the checkpoint over the first --length units of TEXT as one stream (state carried, no dropout) and \
        records every hidden unit h and, for LSTM, every cell unit c of every layer, plus every gate. For each \
        property of the text — inside quotes, bracket depth, position in the line and, with --syntax c or lua, \
        inside a comment / string literal — it prints the --top units whose activation correlates best with it \
        (Pearson r over all the units read, |r| ≥ --threshold; no linear probe), then for every LSTM/GRU gate and \
        layer the share of steps·units it is left-saturated (< 0.1) and right-saturated (> 0.9). Each property is \
        its value after reading a unit: an opening quote is already inside, its closing quote outside.

        --out PAGE.html writes a self-contained page: the text coloured by the best quote unit and the best \
        line-position unit, a selector among all top units (and --units), the table, and the gate-saturation \
        scatter (one dot per unit). Written as RUN_DIR/cells.html, `charrnn report RUN_DIR` links to it.
        """)

    @Argument(help: "Checkpoint directory (or run directory, meaning its latest/).") var checkpoint: String
    @Argument(help: "Text file (or directory, zip, ARCHIVE:MEMBER, -) to run the model over.") var text: String
    @Option(name: .customLong("out"), help: "Write the HTML page here.") var output: String?
    @Option(parsing: .unconditional, help: "Units of TEXT to read (from its start).") var length: Int = 20_000
    @Option(parsing: .unconditional, help: "Best units reported per property.") var top: Int = 5
    @Option(help: "More units to show and score, comma-separated: h<layer>:<index> or c<layer>:<index> (LSTM), e.g. h0:12,c1:3.")
    var units: String?
    @Option(parsing: .unconditional, help: "Smallest |r| reported.") var threshold: Double = 0.2
    @Option(help: "Rules for the text: prose, c or lua (comments and strings).") var syntax: TextSyntax = .prose
    @Option(parsing: .unconditional, help: "Units of text shown on the page.") var show: Int = 3_000
    @Option(parsing: .unconditional, help: "Compute threads.") var threads: Int = 2
    @Flag(help: "Print one JSON object instead of the table.") var json = false
    @Flag(help: "Replace ill-formed UTF-8 with U+FFFD instead of failing.") var replaceInvalid = false

    /// Fewer units than this give correlations that mean little.
    static let minimumUnits = 50

    func validate() throws {
        try FlagCheck.atLeast(Self.minimumUnits, length, "--length")
        try FlagCheck.atLeast(1, top, "--top")
        try FlagCheck.atLeast(1, show, "--show")
        try FlagCheck.threads(threads)
        if !(threshold >= 0 && threshold <= 1) { throw ValidationError("--threshold must be in [0, 1], got \(threshold)") }
        _ = try requestedUnits()
    }

    /// `--units` parsed (the model's sizes are checked after loading).
    func requestedUnits() throws -> [UnitID] {
        guard let units else { return [] }
        return try units.split(separator: ",").map { part in
            let name = part.trimmingCharacters(in: .whitespaces)
            guard let unit = UnitID(parsing: name) else {
                throw ValidationError("--units: \(name) is not a unit name (h<layer>:<index> or c<layer>:<index>, e.g. h0:12)")
            }
            return unit
        }
    }

    func run() throws {
        try CLIErrors.reporting {
            let requested = try requestedUnits()
            let loaded = try Checkpoint.load(from: checkpoint)
            let model = loaded.model
            model.threads = threads
            let config = model.config
            for unit in requested {
                let exists = unit.layer < config.layers && unit.index < config.hiddenSize && (unit.state == .h || config.cell == .lstm)
                if !exists {
                    let cells = config.cell == .lstm ? "h or c" : "h only (\(config.cell.rawValue) has no cell state)"
                    throw ValidationError("--units: \(unit) is not a unit of this model (\(config.layers) layer\(config.layers == 1 ? "" : "s") of \(config.hiddenSize) units, \(cells))")
                }
            }
            let corpus = try TokenCorpus.encode(paths: [text], vocabulary: loaded.vocabulary,
                                                reader: CorpusReader.Options(replaceInvalid: replaceInvalid))
            guard corpus.ids.count >= Self.minimumUnits else {
                throw DiagnosticsError.textTooShort("inspect-cells on \(text)", needed: Self.minimumUnits, available: corpus.ids.count)
            }
            try CellActivations.checkMemory(steps: min(length, corpus.ids.count), config: config)
            let ids = Array(corpus.ids.prefix(length))
            let strings = ids.map { $0 == Vocabulary.unknownID ? "\u{FFFD}" : loaded.vocabulary.unit(of: $0) }
            let activations = CellActivations.record(model: model, ids: ids)
            let inspection = CellInspection(checkpoint: checkpoint, activations: activations, units: strings, syntax: syntax,
                                            top: top, threshold: threshold, requested: requested)
            if let output {
                let page = CellPage.html(inspection: inspection, activations: activations, units: strings, shown: show,
                                         title: "CharRNN cells: \(URL(fileURLWithPath: checkpoint).lastPathComponent)")
                try AtomicFile.write(Data(page.utf8), to: URL(fileURLWithPath: output))
            }
            if json {
                try StandardOutput.print(try inspection.json())
            } else {
                try StandardOutput.print(inspection.table)
                if corpus.statistics.unknownUnits > 0 {
                    CLIErrors.printWarning("\(corpus.statistics.unknownUnits) units of \(text) are outside the checkpoint's vocabulary (read as <unk>)")
                }
                if let output { try StandardOutput.print("wrote \(output)") }
            }
        }
    }
}
