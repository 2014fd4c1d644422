import ArgumentParser
import Foundation
import TextCorpus

/// The `charrnn` command: a thin shell over the CharRNN library.
@main
struct CharRNNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "charrnn",
        abstract: "Character-level recurrent language models (RNN, LSTM, GRU) on the CPU.",
        version: "0.1.0 (ICU \(ICUInfo.version))",
        subcommands: [
            CorpusCommand.self,
            ReportCommand.self,
            BenchCommand.self,
            TrainCommand.self,
            EvalCommand.self,
            GenerateCommand.self,
            GradientsCommand.self,
            ExperimentCommand.self,
            InspectCellsCommand.self,
            ExportCommand.self,
            ImportCommand.self,
        ]
    )

    /// Runs the command named by the arguments. Help, `--version` and the other requests that end
    /// cleanly print what ArgumentParser prints; an `ExitCode` thrown by a command (errors it reported
    /// itself, signals) is kept. Every other error, usage mistakes included (unknown option, missing or
    /// unparsable value, a `ValidationError` from `validate()` or `run()`), is one line on standard
    /// error, `charrnn: error: <message>`, with exit status 1 and no usage text, like every other error.
    /// The standard descriptors are reserved first (see `StandardOutput`).
    static func main() {
        StandardOutput.reserveStandardDescriptors()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if error is ExitCode || exitCode(for: error) == .success { exit(withError: error) }
            CLIErrors.printError(usageMessage(for: error))
            Foundation.exit(ExitCode.failure.rawValue)
        }
    }

    /// ArgumentParser's message for `error` as one line, without its "Error: " prefix.
    static func usageMessage(for error: any Error) -> String {
        var text = message(for: error).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: "; ")
        if text.hasPrefix("Error: ") { text.removeFirst("Error: ".count) }
        return text.isEmpty ? CLIErrors.message(for: error) : text
    }
}
