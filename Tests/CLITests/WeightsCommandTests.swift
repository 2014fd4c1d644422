import CharRNN
import Foundation
import Testing
import TestSupport
@testable import CharRNNCLI

/// `charrnn export` and `charrnn import` end to end on a tiny trained run, and their bad inputs.
@Suite(.serialized) struct WeightsCommandTests {
    typealias CLI = CorpusCommandTests

    static func nats(_ run: CLI.Run) throws -> Double {
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        return try #require(object["nats_per_unit"] as? Double)
    }

    @Test func exportThenImportReproducesTheCheckpoint() throws {
        let (root, corpus, out) = try TrainEvalGenerateCommandTests.trainedRun()
        defer { try? FileManager.default.removeItem(at: root) }
        let reference = try CLI.run(["eval", out, corpus, "--json"])
        let sample = try CLI.run(["generate", out, "--prime", "abc", "--length", "30", "--seed", "4", "--weights", "f32"])
        var sizes: [String: Int] = [:]
        for (dtype, tolerance) in [("f32", 0.0), ("f16", 2e-3), ("bf16", 2e-2)] {
            let file = root.appendingPathComponent("w-\(dtype).safetensors").path
            let export = try CLI.run(["export", out, "--dtype", dtype, "-o", file])
            #expect(export.status == 0, "\(export.stderr)")
            #expect(export.stdout.contains("wrote \(file)"))
            sizes[dtype] = try #require(try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
            let imported = root.appendingPathComponent("imported-\(dtype)").path
            let run = try CLI.run(["import", file, "--out", imported])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("lstm 1×16, embedding 8"), "\(run.stdout)")
            let eval = try CLI.run(["eval", imported, corpus, "--json"])
            if dtype == "f32" {
                #expect(eval.stdout == reference.stdout, "f32 round trip is bit for bit")
                let again = try CLI.run(["generate", imported, "--prime", "abc", "--length", "30", "--seed", "4", "--weights", "f32"])
                #expect(again.stdout == sample.stdout && again.status == 0)
            } else {
                #expect(abs(try Self.nats(eval) - (try Self.nats(reference))) <= tolerance, "\(dtype)")
            }
        }
        // Half precision takes about half the bytes of f32 (the metadata is shared).
        let f32 = try #require(sizes["f32"]), f16 = try #require(sizes["f16"]), bf16 = try #require(sizes["bf16"])
        #expect(f16 < f32 * 2 / 3 && bf16 < f32 * 2 / 3)
        // A half-precision export also serves as a checkpoint's model.safetensors.
        let copy = root.appendingPathComponent("copy")
        try FileManager.default.copyItem(atPath: "\(out)/latest", toPath: copy.path)
        try FileManager.default.removeItem(atPath: copy.appendingPathComponent("model.safetensors").path)
        try FileManager.default.copyItem(atPath: root.appendingPathComponent("w-bf16.safetensors").path,
                                         toPath: copy.appendingPathComponent("model.safetensors").path)
        let generated = try CLI.run(["generate", copy.path, "--prime", "abc", "--length", "30", "--seed", "4"])
        #expect(generated.status == 0 && generated.stdout.hasPrefix("abc"), "\(generated.stderr)")
    }

    @Test func importOfAPlainStateDictWithAVocabularyFile() throws {
        let (root, corpus, out) = try TrainEvalGenerateCommandTests.trainedRun()
        defer { try? FileManager.default.removeItem(at: root) }
        // The run's weights as a bare state dict (no metadata) and its units as a JSON array.
        let weights = try SafetensorsFile.read(from: URL(fileURLWithPath: "\(out)/latest/model.safetensors"))
        let stateDict = root.appendingPathComponent("sd.safetensors")
        try SafetensorsFile(tensors: weights.tensors).write(to: stateDict)
        let vocabulary = try Checkpoint.load(from: out).vocabulary
        let vocab = root.appendingPathComponent("vocab.json")
        try JSONSerialization.data(withJSONObject: vocabulary.units).write(to: vocab)
        let imported = root.appendingPathComponent("imported").path
        let run = try CLI.run(["import", stateDict.path, "--vocab", vocab.path, "--out", imported, "--cell", "lstm"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try CLI.run(["eval", imported, corpus, "--json"]).stdout == (try CLI.run(["eval", out, corpus, "--json"])).stdout)
        let config = try String(contentsOfFile: "\(imported)/config.json", encoding: .utf8)
        #expect(config.contains("\"unit\" : \"codepoint\"") && config.contains("\"normalization\" : \"none\""), "\(config)")
        let generated = try CLI.run(["generate", imported, "--prime", "ab", "--length", "20"])
        #expect(generated.status == 0 && generated.stdout.hasPrefix("ab"), "\(generated.stderr)")
    }

    @Test func badInputsGetOneLineErrorsAndWriteNothing() throws {
        let (root, _, out) = try TrainEvalGenerateCommandTests.trainedRun()
        defer { try? FileManager.default.removeItem(at: root) }
        func expectFailure(_ arguments: [String], mentioning text: String, status: Int32 = 1,
                           sourceLocation: SourceLocation = #_sourceLocation) throws {
            let run = try CLI.run(arguments)
            #expect(run.status == status, "exit status \(run.status)", sourceLocation: sourceLocation)
            #expect(run.stderr.contains(text), "\(run.stderr)", sourceLocation: sourceLocation)
            if status == 1 {
                #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)", sourceLocation: sourceLocation)
            }
            #expect(!run.stderr.contains("Fatal error") && !run.stderr.contains("Stack dump"), sourceLocation: sourceLocation)
        }
        let exported = root.appendingPathComponent("w.safetensors").path
        #expect(try CLI.run(["export", out, "-o", exported]).status == 0)
        let weights = try SafetensorsFile.read(from: URL(fileURLWithPath: exported))
        let bare = root.appendingPathComponent("bare.safetensors")
        try SafetensorsFile(tensors: weights.tensors).write(to: bare)
        let vocab = root.appendingPathComponent("vocab.json")
        try Data(#"["a", "b"]"#.utf8).write(to: vocab)
        let target = root.appendingPathComponent("new").path

        try expectFailure(["import", bare.path, "--out", target], mentioning: "--vocab is required")
        try expectFailure(["import", bare.path, "--vocab", vocab.path, "--out", target],
                          mentioning: "\(vocab.path): does not match: 2 units, but encoder.weight")
        try expectFailure(["import", exported, "--out", out], mentioning: "--out already exists")
        try expectFailure(["import", bare.path, "--vocab", vocab.path, "--out", target, "--cell", "gru"], mentioning: "cell GRU")
        try expectFailure(["import", exported, "--out", target, "--nonlinearity", "relu"], mentioning: "tanh only")
        try expectFailure(["import", root.appendingPathComponent("none.safetensors").path, "--out", target],
                          mentioning: "no such checkpoint file")
        var forged = Data()
        withUnsafeBytes(of: (UInt64(1) << 60).littleEndian) { forged.append(contentsOf: $0) }
        forged.append(contentsOf: Array("{}".utf8))
        let forgedURL = root.appendingPathComponent("forged.safetensors")
        try forged.write(to: forgedURL)
        try expectFailure(["import", forgedURL.path, "--out", target], mentioning: "exceeds 100 MB")
        #expect(!FileManager.default.fileExists(atPath: target), "nothing written")

        try expectFailure(["export", out, "-o", root.path], mentioning: "-o names a directory")
        try expectFailure(["export", "\(root.path)/nothing", "-o", "\(root.path)/x.safetensors"], mentioning: "no such checkpoint")
        try expectFailure(["export", out, "--dtype", "f64", "-o", "\(root.path)/x.safetensors"], mentioning: "--dtype")
        // A weight beyond f16's range: an error naming the tensor, and no file.
        let copy = root.appendingPathComponent("copy")
        try FileManager.default.copyItem(atPath: "\(out)/latest", toPath: copy.path)
        let modelURL = copy.appendingPathComponent("model.safetensors")
        var file = try SafetensorsFile.read(from: modelURL)
        let index = try #require(file.tensors.firstIndex { $0.name == "rnn.bias_ih_l0" })
        var values = file.tensors[index].floats
        values[3] = 1e5
        file.tensors[index] = SafetensorsTensor(name: "rnn.bias_ih_l0", shape: file.tensors[index].shape, floats: values)
        try file.write(to: modelURL)
        let half = root.appendingPathComponent("half.safetensors").path
        try expectFailure(["export", copy.path, "--dtype", "f16", "-o", half], mentioning: "tensor rnn.bias_ih_l0: element 3 is 100000.0")
        #expect(!FileManager.default.fileExists(atPath: half))
        #expect(try CLI.run(["export", copy.path, "--dtype", "bf16", "-o", half]).status == 0)
    }

    @Test func helpDocumentsTheOptions() {
        let export = ExportCommand.helpMessage()
        for option in ["--dtype", "-o", "f16", "bf16"] { #expect(export.contains(option), "export help lacks \(option)") }
        let importHelp = ImportCommand.helpMessage()
        for option in ["--vocab", "--out", "--cell", "--unit", "--normalize", "JSON array"] {
            #expect(importHelp.contains(option), "import help lacks \(option)")
        }
    }
}
