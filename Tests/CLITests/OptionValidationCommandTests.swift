import Foundation
import Testing
import TestSupport
@testable import CharRNN
@testable import CharRNNCLI

/// Issue 11, class 8: every numeric flag of every command is validated one way, and an argument
/// error is one line `charrnn: error: …` naming the flag, exit status 1, with nothing created on disk.
@Suite(.serialized) struct OptionValidationCommandTests {
    typealias CLI = CorpusCommandTests

    /// (arguments after the command's own positional arguments, the flag the error must name).
    static let trainCases: [([String], String)] = [
        (["--clip-norm", "nan"], "--clip-norm"), (["--clip-norm=-1"], "--clip-norm"), (["--clip-norm", "inf"], "--clip-norm"),
        (["--clip-value", "inf"], "--clip-value"), (["--clip-value", "-1"], "--clip-value"),
        (["--lr-schedule", "cosine:1e30"], "--lr-schedule"), (["--lr-schedule", "exp:2"], "--lr-schedule"),
        (["--lr-schedule", "plateau:0.5:2:0:1"], "--lr-schedule"), (["--lr-schedule", "cosine:nan"], "--lr-schedule"),
        (["--forget-bias", "nan"], "--forget-bias"), (["--forget-bias", "-inf"], "--forget-bias"),
        (["--hidden", "-1"], "--hidden"), (["--hidden", "0"], "--hidden"), (["--hidden", "1e9"], "--hidden"),
        (["--layers", "0"], "--layers"), (["--embed", "-3"], "--embed"), (["--dropout", "1"], "--dropout"),
        (["--dropout", "nan"], "--dropout"), (["--embed-dropout", "-0.1"], "--embed-dropout"),
        (["--lr", "nan"], "--lr"), (["--lr", "-0.1"], "--lr"), (["--lr", "0"], "--lr"),
        (["--momentum", "inf"], "--momentum"), (["--alpha", "1"], "--alpha"), (["--eps", "0"], "--eps"),
        (["--weight-decay", "-1"], "--weight-decay"), (["--warmup", "-5"], "--warmup"),
        (["--threads", "0"], "--threads"), (["--threads", "100000"], "--threads"),
        (["--batch", "0"], "--batch"), (["--bptt", "-2"], "--bptt"), (["--epochs", "0"], "--epochs"),
        (["--max-steps", "-1"], "--max-steps"), (["--patience", "0"], "--patience"), (["--val-batch", "0"], "--val-batch"),
        (["--log-every", "0"], "--log-every"), (["--eval-every", "-1"], "--eval-every"),
        (["--time-limit", "-5"], "--time-limit"), (["--time-limit", "nan"], "--time-limit"),
        (["--checkpoint-every", "-1"], "--checkpoint-every"), (["--val-fraction", "nan"], "--val-fraction"),
        (["--test-fraction", "1.5"], "--test-fraction"), (["--seed", "-1"], "--seed"), (["--max-vocab", "1"], "--max-vocab"),
    ]

    static let otherCases: [([String], String)] = [
        (["generate", "no-ckpt", "--threads", "0"], "--threads"), (["generate", "no-ckpt", "--temperature", "nan"], "--temperature"),
        (["generate", "no-ckpt", "--temperature", "-1"], "--temperature"), (["generate", "no-ckpt", "--top-p", "2"], "--top-p"),
        (["generate", "no-ckpt", "--top-k", "-1"], "--top-k"), (["generate", "no-ckpt", "--length", "-1"], "--length"),
        (["generate", "no-ckpt", "--samples", "0"], "--samples"), (["generate", "no-ckpt", "--threads", "-4"], "--threads"),
        (["eval", "no-ckpt", "x.txt", "--threads", "0"], "--threads"), (["eval", "no-ckpt", "x.txt", "--batch", "-1"], "--batch"),
        (["eval", "no-ckpt", "x.txt", "--bptt", "0"], "--bptt"), (["eval", "no-ckpt", "x.txt", "--ngram-order", "99"], "--ngram-order"),
        (["bench", "x.txt", "--hidden", "0"], "--hidden"), (["bench", "x.txt", "--threads", "0"], "--threads"),
        (["bench", "x.txt", "--sample", "-1"], "--sample"), (["bench", "x.txt", "--steps", "-1"], "--steps"),
        (["gradients", "--cell", "lstm", "--corpus", "x.txt", "--length", "0"], "--length"),
        (["gradients", "--cell", "lstm", "--corpus", "x.txt", "--forget-bias", "inf"], "--forget-bias"),
        (["gradients", "--cell", "lstm", "--corpus", "x.txt", "--recurrent-scale", "nan"], "--recurrent-scale"),
        (["gradients", "--cell", "lstm", "--corpus", "x.txt", "--threads", "0"], "--threads"),
        (["experiment", "--lr", "inf"], "--lr"), (["experiment", "--clip-norm", "nan"], "--clip-norm"),
        (["experiment", "--threads", "0"], "--threads"), (["experiment", "--steps", "-1"], "--steps"),
        (["corpus", "inspect", "x.txt", "--top", "-1"], "--top"), (["corpus", "inspect", "x.txt", "--val-fraction", "1.5"], "--val-fraction"),
        (["corpus", "inspect", "x.txt", "--min-count", "0"], "--min-count"),
        (["corpus", "bench", "x.txt", "--repeats", "0"], "--repeats"),
        (["corpus", "synth", "brackets", "-o", "s.txt", "--size", "0"], "--size"),
        (["corpus", "synth", "brackets", "-o", "s.txt", "--max-distance", "-3"], "--max-distance"),
        (["report", "run", "--bogus", "1"], "--bogus"),
        (["export", "no-ckpt", "-o", "w.safetensors", "--dtype", "f64"], "--dtype"),
        (["import", "w.safetensors", "--out", "ck", "--unit", "syllable"], "--unit"),
    ]

    /// One bad invocation: exit 1, one line on standard error that names `flag`, no crash text,
    /// nothing on standard output.
    static func expectRefused(_ arguments: [String], naming flag: String, in directory: URL,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let run = try CLI.run(arguments, directory: directory)
        let lines = run.stderr.split(separator: "\n")
        #expect(run.status == 1, "\(arguments): status \(run.status) \(run.stderr)", sourceLocation: sourceLocation)
        #expect(lines.count == 1, "\(arguments): \(run.stderr)", sourceLocation: sourceLocation)
        #expect(run.stderr.hasPrefix("charrnn: error: "), "\(arguments): \(run.stderr)", sourceLocation: sourceLocation)
        #expect(run.stderr.contains(flag), "\(arguments): \(run.stderr)", sourceLocation: sourceLocation)
        #expect(!run.stderr.contains("Fatal error") && !run.stderr.contains("Usage:") && !run.stderr.contains("USAGE"),
                "\(arguments): \(run.stderr)", sourceLocation: sourceLocation)
        #expect(run.stdout.isEmpty, "\(arguments): \(run.stdout)", sourceLocation: sourceLocation)
    }

    @Test func everyBadTrainFlagIsOneLineNamingTheFlagAndCreatesNoRun() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-options-train")
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = root.appendingPathComponent("corpus.txt")
        try Data(String(repeating: "abc def ", count: 200).utf8).write(to: corpus)
        for (index, (flags, flag)) in Self.trainCases.enumerated() {
            let out = root.appendingPathComponent("run-\(index)")
            try Self.expectRefused(["train", corpus.path, "--out", out.path] + flags, naming: flag, in: root)
            #expect(!FileManager.default.fileExists(atPath: out.path), "\(flags) created \(out.path)")
        }
    }

    @Test func everyOtherCommandsBadFlagIsOneLineNamingTheFlag() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-options-other")
        defer { try? FileManager.default.removeItem(at: root) }
        for (arguments, flag) in Self.otherCases {
            try Self.expectRefused(arguments, naming: flag, in: root)
        }
        // Nothing was written by any of them (no synth output, no run, no checkpoint).
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).isEmpty)
    }

    @Test func primeFileThatIsADirectoryOrMissingIsNamed() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-options-prime")
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = root.appendingPathComponent("primes")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Self.expectRefused(["generate", "no-ckpt", "--prime-file", directory.path], naming: "is a directory", in: root)
        try Self.expectRefused(["generate", "no-ckpt", "--prime-file", "missing.txt"], naming: "--prime-file missing.txt: no such file",
                               in: root)
    }

    @Test func helpAndVersionStillExitZero() throws {
        let version = try CLI.run(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.contains("0.1.0"))
        let help = try CLI.run(["train", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("--clip-norm"))
        let root = try CLI.run([])
        #expect(root.status == 0)
        #expect(root.stdout.contains("SUBCOMMANDS"))
        // An unknown subcommand or option is a usage error like the others.
        let unknown = try CLI.run(["trian"])
        #expect(unknown.status == 1 && unknown.stderr.split(separator: "\n").count == 1, "\(unknown.stderr)")
    }

    @Test func libraryParameterNamesMapToFlags() {
        #expect(FlagNames.flagged("hiddenSize must be at least 1 (got 0)") == "--hidden must be at least 1 (got 0)")
        #expect(FlagNames.flagged("embedding dropout must be in [0, 1) (got 2.0)") == "--embed-dropout must be in [0, 1) (got 2.0)")
        #expect(FlagNames.flagged("layers must be at least 1 (got 0)") == "--layers must be at least 1 (got 0)")
        // Only a whole leading name is replaced; messages that already name a flag are unchanged.
        #expect(FlagNames.flagged("layersX must be") == "layersX must be")
        #expect(FlagNames.flagged("--lr: must be a finite number > 0") == "--lr: must be a finite number > 0")
    }
}

/// Issue 11, class 7: a checkpoint with a NaN or inf value is refused at load, naming the tensor and
/// the first bad element, by every command that loads it.
@Suite(.serialized) struct NonFiniteCheckpointCommandTests {
    typealias CLI = CorpusCommandTests

    /// Rewrites the safetensors file at `url` with element `index` of tensor `name` set to `value`.
    static func poison(_ url: URL, tensor name: String, index: Int, value: Float) throws {
        let file = try SafetensorsFile.read(from: url)
        let tensors = try file.tensors.map { tensor -> SafetensorsTensor in
            guard tensor.name == name else { return tensor }
            var floats = tensor.floats
            try #require(index < floats.count)
            floats[index] = value
            return SafetensorsTensor(name: tensor.name, shape: tensor.shape, floats: floats)
        }
        #expect(tensors.contains { $0.name == name })
        try SafetensorsFile(tensors: tensors, metadata: file.metadata).write(to: url)
    }

    static func expectNamed(_ arguments: [String], _ texts: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let run = try CLI.run(arguments)
        #expect(run.status == 1, "\(arguments): \(run.status) \(run.stderr)", sourceLocation: sourceLocation)
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)", sourceLocation: sourceLocation)
        for text in texts { #expect(run.stderr.contains(text), "\(arguments): \(run.stderr)", sourceLocation: sourceLocation) }
        #expect(!run.stdout.contains("<unk>") && !run.stdout.contains("nan"), "\(run.stdout)", sourceLocation: sourceLocation)
        #expect(!run.stderr.contains("Fatal error"), sourceLocation: sourceLocation)
    }

    @Test func nonFiniteWeightsAndStateAreRefusedNamingTheTensor() throws {
        let (root, corpus, out) = try TrainEvalGenerateCommandTests.trainedRun()
        defer { try? FileManager.default.removeItem(at: root) }
        let latest = URL(fileURLWithPath: out).appendingPathComponent("latest")
        let model = latest.appendingPathComponent("model.safetensors")
        let pristine = try Data(contentsOf: model)

        for (tensor, index, value, shown) in [("rnn.weight_hh_l0", 7, Float.nan, "nan"), ("decoder.bias", 2, Float.infinity, "inf"),
                                              ("encoder.weight", 0, -Float.infinity, "-inf")] {
            try pristine.write(to: model)
            try Self.poison(model, tensor: tensor, index: index, value: value)
            let named = ["model.safetensors", "tensor \(tensor)", "element \(index) is \(shown)"]
            try Self.expectNamed(["generate", out, "--length", "20", "--seed", "1"], named)
            try Self.expectNamed(["eval", out, corpus, "--json"], named)
            try Self.expectNamed(["export", out, "-o", root.appendingPathComponent("w.safetensors").path], named)
        }
        // Finite but huge: a decoder bias of 3e38 on <unk> (id 0) makes it the model's favourite, yet
        // generate never draws it; on another unit the loss overflows, which eval refuses by name.
        try pristine.write(to: model)
        try Self.poison(model, tensor: "decoder.bias", index: 0, value: 3e38)
        let biased = try CLI.run(["generate", out, "--length", "30", "--seed", "3"])
        #expect(biased.status == 0, "\(biased.stderr)")
        #expect(!biased.stdout.contains("<unk>") && biased.stdout.count >= 30, "\(biased.stdout)")
        for temperature in ["1", "0.01"] {
            let greedy = try CLI.run(["generate", out, "--length", "30", "--seed", "3", "--temperature", temperature, "--top-k", "1"])
            #expect(greedy.status == 0 && !greedy.stdout.contains("<unk>"), "\(greedy.stdout) \(greedy.stderr)")
        }
        try pristine.write(to: model)
        try Self.poison(model, tensor: "decoder.bias", index: 3, value: 3e38)
        for arguments in [["eval", out, corpus, "--json"], ["eval", out, corpus]] {
            try Self.expectNamed(arguments, [out, "overflow"])
        }

        try pristine.write(to: model)
        let good = try CLI.run(["eval", out, corpus, "--json"])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(!good.stdout.contains("nan"))

        // The trainer state: a NaN optimizer moment or carried state refuses --resume, naming it.
        let state = latest.appendingPathComponent("trainer-state.safetensors")
        let names = try SafetensorsFile.read(from: state).tensors.map(\.name)
        let moment = try #require(names.first { $0.hasPrefix("optimizer.") })
        try Self.poison(state, tensor: moment, index: 1, value: .nan)
        try Self.expectNamed(["train", "--resume", "--out", out, "--max-steps", "14", "--quiet"],
                             ["trainer-state.safetensors", "tensor \(moment)", "element 1 is nan"])
    }
}
