import ArgumentParser
import CharRNN
import Foundation

/// `charrnn report RUN_DIR… -o report.html`: one self-contained HTML page comparing runs.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write an HTML report (inline SVG charts, no scripts) comparing training runs.",
        discussion: """
        Each RUN_DIR needs metrics.jsonl; config.json, gradient-flow.json (from `charrnn gradients`) and \
        long-range.json (long-range accuracy results) are shown when present; gradient_flow records of \
        metrics.jsonl (train --track-gradient-flow) are plotted against steps, and a cells.html (from \
        `charrnn inspect-cells --out RUN_DIR/cells.html`) is linked. Runs are named by their directory names.
        """
    )

    @Argument(help: "Run directories (each with metrics.jsonl).")
    var runDirectories: [String]

    @Option(name: [.short, .customLong("output")], help: "HTML file to write.")
    var output: String = "report.html"

    @Option(help: "Page title.")
    var title: String = "CharRNN report"

    func validate() throws {
        if runDirectories.isEmpty { throw ValidationError("give at least one run directory") }
    }

    func run() throws {
        try RunReport.write(runDirectories: runDirectories.map { URL(fileURLWithPath: $0) },
                            to: URL(fileURLWithPath: output), title: title)
        try StandardOutput.print("wrote \(output) (\(runDirectories.count) run\(runDirectories.count == 1 ? "" : "s"))")
    }
}
