import ArgumentParser
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
            ExportCommand.self,
            ImportCommand.self,
        ]
    )

    /// Reserves the standard descriptors (see `StandardOutput`), then parses and runs the command.
    static func main() {
        StandardOutput.reserveStandardDescriptors()
        main(nil)
    }
}
