import Foundation
import Testing
import TestSupport
@testable import CharRNN
import NeuralNet
import Tensor
import TextCorpus

/// Small, fast training set-ups shared by the trainer tests.
enum TinyRun {
    static let text = String(repeating: "the cat sat on the mat. (a [b] {c}) ", count: 40)

    static func corpus() throws -> TokenCorpus { try TokenCorpus.load(text: text, validationFraction: 0.1, testFraction: 0.1) }

    static func model(_ cell: CellKind = .lstm, dropout: Double = 0.2) -> ModelConfig {
        ModelConfig(vocabularySize: 1, embeddingSize: 8, hiddenSize: 16, layers: 2, cell: cell, dropout: dropout)
    }

    static func training(steps: Int) -> TrainingOptions {
        var options = TrainingOptions()
        options.batchSize = 4
        options.bptt = 12
        options.maxSteps = steps
        options.evalEvery = 5
        options.checkpointEvery = 5
        options.threads = 1
        options.optimizer = .adam(learningRate: 0.01)
        options.clipping = GradientClipping(maxNorm: 0.5)
        return options
    }

    /// The train and eval records of a run, bit for bit (resume records, which only a resumed run has, left out).
    static func losses(_ run: RunDirectory) throws -> [String] {
        try records(run).filter { $0.kind != .resume }
            .map { "\($0.kind.rawValue) \($0.step) \($0.loss?.bitPattern ?? 0) \($0.gradNorm?.bitPattern ?? 0)" }
    }

    static func records(_ run: RunDirectory) throws -> [MetricsRecord] {
        try MetricsRecord.parseLines(String(decoding: try Data(contentsOf: run.metrics), as: UTF8.self))
    }
}

@Suite struct TrainerTests {
    @Test(arguments: [CellKind.lstm, .gru])
    func resumeEqualsAnUninterruptedRun(cell: CellKind) throws {
        let root = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = try TinyRun.corpus()
        let straight = RunDirectory(root.appendingPathComponent("straight"))
        try Trainer(run: straight, corpus: corpus, paths: ["tiny"], model: TinyRun.model(cell),
                    training: TinyRun.training(steps: 30), resume: false).train()

        let split = RunDirectory(root.appendingPathComponent("split"))
        try Trainer(run: split, corpus: corpus, paths: ["tiny"], model: TinyRun.model(cell),
                    training: TinyRun.training(steps: 15), resume: false).train()
        let resumed = try Trainer(run: split, corpus: corpus, paths: ["tiny"], model: TinyRun.model(cell),
                                  training: TinyRun.training(steps: 30), resume: true)
        #expect(resumed.resumedFromStep == 15)
        try resumed.train()

        #expect(try TinyRun.losses(straight) == TinyRun.losses(split))
        #expect(try TinyRun.losses(straight).count == 30 + 6)
        let a = try Checkpoint.load(from: straight.url.path).model.parameters.values.array
        let b = try Checkpoint.load(from: split.url.path).model.parameters.values.array
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern))
    }

    @Test func lossesDoNotDependOnTheThreadCount() throws {
        let root = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        var runs: [[String]] = []
        for threads in [1, 2] {
            var options = TinyRun.training(steps: 10)
            options.threads = threads
            let run = RunDirectory(root.appendingPathComponent("t\(threads)"))
            try Trainer(run: run, corpus: try TinyRun.corpus(), paths: ["tiny"], model: TinyRun.model(),
                        training: options, resume: false).train()
            runs.append(try TinyRun.losses(run))
        }
        #expect(runs[0] == runs[1])
    }

    @Test func trainingLowersTheValidationLoss() throws {
        let root = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let run = RunDirectory(root)
        var options = TinyRun.training(steps: 60)
        options.optimizer = .adam(learningRate: 0.03)
        options.clipping = GradientClipping(maxNorm: 5)
        let result = try Trainer(run: run, corpus: try TinyRun.corpus(), paths: ["tiny"], model: TinyRun.model(dropout: 0),
                                 training: options, resume: false).train()
        let evals = try MetricsRecord.parseLines(String(decoding: try Data(contentsOf: run.metrics), as: UTF8.self))
            .filter { $0.kind == .eval }
        #expect(evals.count == 12)
        #expect(evals.last!.loss! < evals.first!.loss! * 0.7)
        #expect(result.bestValidationLoss == evals.compactMap(\.loss).min())
        // best/ holds the weights that scored the best validation loss.
        let best = try Checkpoint.load(from: run.best.path)
        let corpus = try TinyRun.corpus()
        let stream = try BatchStream(ids: corpus.validation, batchSize: 4, sequenceLength: 12, requireFullWindow: false)
        #expect(abs(Evaluator.meanLoss(model: best.model, stream: stream) - result.bestValidationLoss!) < 1e-12)
    }

    @Test func checkpointRoundTripKeepsEverything() throws {
        let root = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = try TinyRun.corpus()
        var config = TinyRun.model(.gru)
        config.vocabularySize = corpus.vocabulary.count
        let model = LanguageModel<Float>(config: config, seed: 7)
        let configuration = RunConfiguration(model: config, tokenizer: corpus.vocabulary.tokenizer,
                                             training: TinyRun.training(steps: 1),
                                             corpus: CorpusDescription(paths: ["tiny"], corpus: corpus))
        try Checkpoint(configuration: configuration, vocabulary: corpus.vocabulary, model: model)
            .write(to: root.appendingPathComponent("ckpt"))
        let loaded = try Checkpoint.load(from: root.appendingPathComponent("ckpt").path)
        #expect(loaded.configuration == configuration)
        #expect(loaded.vocabulary == corpus.vocabulary)
        #expect(loaded.model.parameters.values.array == model.parameters.values.array)
        #expect(loaded.model.parameters.layout == model.parameters.layout)
        // The weights file carries PyTorch's names in registration order.
        let names = try SafetensorsFile.read(from: root.appendingPathComponent("ckpt/model.safetensors")).tensors.map(\.name)
        #expect(names.first == "encoder.weight" && names.last == "decoder.bias" && names.contains("rnn.weight_hh_l1"))
    }

    @Test func evaluatorEqualsADirectStepByStepComputation() throws {
        let corpus = try TinyRun.corpus()
        var config = TinyRun.model(.lstm, dropout: 0.3)
        config.vocabularySize = corpus.vocabulary.count
        let model = LanguageModel<Float>(config: config, seed: 3)
        let ids = corpus.test
        let result = try Evaluator.evaluate(model: model, ids: ids, batchSize: 1, bptt: 7, unknownUnits: 0)
        // Direct: one stream, one unit at a time, log-softmax in Double.
        let state = RecurrentState<Float>(config: config, batchSize: 1)
        var logits = [Float](repeating: 0, count: config.vocabularySize)
        var total = 0.0
        let array = Array(ids)
        for position in 0..<(array.count - 1) {
            logits.withUnsafeMutableBufferPointer { model.step(inputs: [array[position]], state: state, logits: $0) }
            let maximum = Double(logits.max()!)
            let logSum = maximum + log(logits.reduce(0.0) { $0 + exp(Double($1) - maximum) })
            total += logSum - Double(logits[Int(array[position + 1])])
        }
        #expect(result.units == array.count - 1)
        #expect(abs(result.natsPerUnit - total / Double(array.count - 1)) < 1e-5)
        #expect(abs(result.bitsPerUnit - result.natsPerUnit / log(2)) < 1e-12)
        #expect(abs(result.perplexity - exp(result.natsPerUnit)) < 1e-9)
    }

    @Test func nonFiniteLossStopsAndKeepsTheLastGoodCheckpoint() throws {
        let root = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let run = RunDirectory(root)
        let corpus = try TinyRun.corpus()
        try Trainer(run: run, corpus: corpus, paths: ["tiny"], model: TinyRun.model(dropout: 0),
                    training: TinyRun.training(steps: 5), resume: false).train()
        let good = try Data(contentsOf: run.latest.appendingPathComponent("model.safetensors"))
        var exploding = TinyRun.training(steps: 50)
        exploding.optimizer = .sgd(learningRate: 1e30)
        exploding.clipping = .none
        let trainer = try Trainer(run: run, corpus: corpus, paths: ["tiny"], model: TinyRun.model(dropout: 0),
                                  training: exploding, resume: false)
        do {
            try trainer.train()
            Issue.record("training with lr 1e30 did not stop")
        } catch let error as TrainingError {
            guard case .nonFiniteLoss(let step, _) = error else { Issue.record("\(error)"); return }
            #expect(step > 1 && step <= 5, "the loss should explode within the first checkpoint interval")
            #expect("\(error)".contains("step \(step)"))
        }
        #expect(try Data(contentsOf: run.latest.appendingPathComponent("model.safetensors")) == good)
    }

    @Test func resumeRefusesAnotherArchitectureOrVocabulary() throws {
        let root = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let run = RunDirectory(root)
        try Trainer(run: run, corpus: try TinyRun.corpus(), paths: ["tiny"], model: TinyRun.model(),
                    training: TinyRun.training(steps: 5), resume: false).train()
        var wider = TinyRun.model()
        wider.hiddenSize = 24
        #expect(throws: TrainingError.self) {
            try Trainer(run: run, corpus: try TinyRun.corpus(), paths: ["tiny"], model: wider,
                        training: TinyRun.training(steps: 10), resume: true)
        }
        let other = try TokenCorpus.load(text: "xyz!" + TinyRun.text, validationFraction: 0.1, testFraction: 0.1)
        do {
            _ = try Trainer(run: run, corpus: other, paths: ["other"], model: TinyRun.model(),
                            training: TinyRun.training(steps: 10), resume: true)
            Issue.record("resumed with another vocabulary")
        } catch {
            #expect("\(error)".contains("vocabulary"))
        }
    }

    @Test func corpusTooSmallForOneWindowIsAnError() throws {
        let corpus = try TokenCorpus.load(text: "tiny text", validationFraction: 0, testFraction: 0)
        #expect(throws: CorpusError.self) {
            try Trainer(run: RunDirectory(URL(fileURLWithPath: "/tmp/unused")), corpus: corpus, paths: ["x"],
                        model: TinyRun.model(), training: TinyRun.training(steps: 1), resume: false)
        }
    }
}

@Suite struct GeneratorTests {
    /// A model trained to continue "hello world! " reproduces it greedily.
    @Test func tinyModelReproducesARepeatedStringGreedily() throws {
        let root = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = try TokenCorpus.load(text: String(repeating: "hello world! ", count: 200),
                                          validationFraction: 0.05, testFraction: 0.05)
        var options = TinyRun.training(steps: 150)
        options.batchSize = 8
        options.bptt = 16
        options.evalEvery = 0
        options.checkpointEvery = 0
        options.clipping = GradientClipping(maxNorm: 5)
        options.optimizer = .adam(learningRate: 0.02)
        let run = RunDirectory(root)
        try Trainer(run: run, corpus: corpus, paths: ["hello"], model: TinyRun.model(dropout: 0),
                    training: options, resume: false).train()
        let loaded = try Checkpoint.load(from: root.path)
        let generator = Generator(model: loaded.model, vocabulary: loaded.vocabulary)
        let ids = try generator.generate(prime: try generator.primeIDs("hello", policy: .error), length: 26,
                                         samples: 1, options: SamplingOptions(greedy: true), seed: 1)
        #expect(loaded.vocabulary.decode(ids[0]) == " world! hello world! hello")
    }

    @Test func samplingIsDeterministicForASeed() throws {
        let corpus = try TinyRun.corpus()
        var config = TinyRun.model()
        config.vocabularySize = corpus.vocabulary.count
        let generator = Generator(model: LanguageModel<Float>(config: config, seed: 5), vocabulary: corpus.vocabulary)
        let prime = try generator.primeIDs("the ", policy: .error)
        let options = SamplingOptions(temperature: 0.9, topK: 10)
        let first = try generator.generate(prime: prime, length: 50, samples: 3, options: options, seed: 42)
        let second = try generator.generate(prime: prime, length: 50, samples: 3, options: options, seed: 42)
        let other = try generator.generate(prime: prime, length: 50, samples: 3, options: options, seed: 43)
        #expect(first == second)
        #expect(first != other)
        #expect(first[0] != first[1], "samples of one batch are independent draws")
        // Sample 0 of a batch equals a single-sample run only in distribution, not in values: the
        // draws interleave. A single sample is itself reproducible.
        let single = try generator.generate(prime: prime, length: 50, samples: 1, options: options, seed: 42)
        #expect(single == (try generator.generate(prime: prime, length: 50, samples: 1, options: options, seed: 42)))
    }

    @Test func primeUnitsOutsideTheVocabularyAreNamedOrHandled() throws {
        let corpus = try TinyRun.corpus()
        var config = TinyRun.model()
        config.vocabularySize = corpus.vocabulary.count
        let generator = Generator(model: LanguageModel<Float>(config: config, seed: 5), vocabulary: corpus.vocabulary)
        do {
            _ = try generator.primeIDs("the Zebra", policy: .error)
            Issue.record("unknown prime units accepted")
        } catch {
            #expect("\(error)".contains("\"Z\""))
            #expect("\(error)".hasPrefix("--prime"))
        }
        #expect(try generator.primeIDs("the Zebra", policy: .skip).count == 7)
        #expect(try generator.primeIDs("the Zebra", policy: .unk).filter { $0 == Vocabulary.unknownID }.count == 2)
    }
}
