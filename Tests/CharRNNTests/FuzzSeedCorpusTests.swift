import Foundation
import NeuralNet
import Testing
import TextCorpus
@testable import CharRNN

/// The committed fuzz seeds (Fuzz/corpus/<target>/) must stay valid inputs: a seed that the parser
/// refuses starts the fuzzer at the first error check and leaves the rest of the format unexplored.
/// When a format changes, regenerate the seeds with `python3 Fuzz/make_seeds.py`.
@Suite struct FuzzSeedCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz/corpus")

    func seeds(_ target: String) throws -> [URL] {
        let directory = Self.corpus.appendingPathComponent(target)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        return names.map { directory.appendingPathComponent($0) }
    }

    @Test func safetensorsSeedsParse() throws {
        let files = try seeds("FuzzSafetensors")
        #expect(files.count >= 3)
        for url in files {
            let file = try SafetensorsFile.parse(try Data(contentsOf: url), path: url.lastPathComponent)
            #expect(try SafetensorsFile.parse(file.serialized(), path: "again").tensors.count == file.tensors.count)
        }
    }

    @Test func configurationAndVocabularySeedsLoad() throws {
        let configs = try seeds("FuzzRunConfiguration")
        #expect(configs.count >= 2)
        for url in configs { _ = try RunConfiguration.load(from: url) }
        let vocabularies = try seeds("FuzzVocabulary")
        #expect(vocabularies.count >= 2)
        for url in vocabularies {
            let vocabulary = try Vocabulary(jsonData: try Data(contentsOf: url), name: url.lastPathComponent)
            #expect(vocabulary.count >= 3)
        }
    }

    /// The trainer-state seed splits at its first NUL into trainer-state.json and .safetensors, and
    /// loads for the target's model (LSTM, 1 layer, hidden 8, batch 2).
    @Test func trainerStateSeedLoads() throws {
        let seed = try #require(try seeds("FuzzTrainerState").first)
        let bytes = try Data(contentsOf: seed)
        let split = try #require(bytes.firstIndex(of: 0))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-seed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data().write(to: directory.appendingPathComponent("model.safetensors"))
        try bytes[..<split].write(to: directory.appendingPathComponent(Checkpoint.stateFile))
        try bytes[(split + 1)...].write(to: directory.appendingPathComponent(Checkpoint.stateTensorsFile))
        let model = ModelConfig(vocabularySize: 10, embeddingSize: 4, hiddenSize: 8, layers: 1, cell: .lstm)
        let (state, tensors) = try Checkpoint.loadTrainerState(from: directory.path, model: model, batchSize: 2)
        #expect(state.step == 3)
        #expect(tensors.optimizerBuffers.keys.sorted() == ["exp_avg", "exp_avg_sq"])
    }

    /// The first byte of an --lr-schedule seed is the warmup + 16; the rest is the schedule, or, in
    /// the duration-/cadence- seeds, a --time-limit / --checkpoint-every value.
    @Test func scheduleSeedsParse() throws {
        let files = try seeds("FuzzLRSchedule")
        #expect(files.count >= 5)
        for url in files {
            let bytes = [UInt8](try Data(contentsOf: url))
            let name = url.lastPathComponent, text = String(decoding: bytes.dropFirst(), as: UTF8.self)
            if name.hasPrefix("duration-") { #expect(try DurationText.seconds(text, option: "--time-limit") > 0); continue }
            if name.hasPrefix("cadence-") { #expect(try DurationText.cadence(text, option: "--checkpoint-every").steps > 0); continue }
            let config = try LRScheduleConfig.parse(String(decoding: bytes.dropFirst(), as: UTF8.self),
                                                    warmup: Int(bytes[0]) - 16)
            #expect(config.warmupSteps == Int(bytes[0]) - 16)
        }
    }
}
