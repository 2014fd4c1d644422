import Foundation
import Testing
import TestSupport
@testable import CharRNN
import NeuralNet
import Tensor
import TextCorpus

/// Resume with changed settings, fine-tuning, early stopping, checkpoints by time, stop requests and
/// the remaining-time estimate.
@Suite struct TrainerWorkflowTests {
    static func configuration(_ training: TrainingOptions, model: ModelConfig = TinyRun.model()) throws -> RunConfiguration {
        let corpus = try TinyRun.corpus()
        return RunConfiguration(model: model, tokenizer: corpus.vocabulary.tokenizer, training: training,
                                corpus: CorpusDescription(paths: ["tiny"], corpus: corpus))
    }

    @Test func changesListExactlyTheSettingsThatDiffer() throws {
        let old = try Self.configuration(TinyRun.training(steps: 10))
        #expect(old.changes(from: old).isEmpty)
        var training = TinyRun.training(steps: 20)
        training.optimizer.learningRate = 0.5
        training.checkpointEverySeconds = 600
        var model = TinyRun.model()
        model.hiddenSize = 24
        let new = try Self.configuration(training, model: model)
        let changes = new.changes(from: old)
        #expect(changes.map(\.flag) == ["--hidden", "--max-steps", "--lr", "--checkpoint-every"])
        #expect(changes.map(\.mayChangeOnResume) == [false, true, true, true])
        #expect(changes.map(\.shapesWeights) == [true, false, false, false])
        #expect(changes.first?.old == "16" && changes.first?.new == "24")
        #expect(changes.last?.new == "600.0s")
    }

    @Test func resumeMayChangeTheLearningRateAndDropoutAndLogsIt() throws {
        let root = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = try TinyRun.corpus()
        let run = RunDirectory(root.appendingPathComponent("run"))
        try Trainer(run: run, corpus: corpus, paths: ["tiny"], model: TinyRun.model(),
                    training: TinyRun.training(steps: 10), resume: false).train()
        var training = TinyRun.training(steps: 15)
        training.optimizer.learningRate = 0.003
        let model = TinyRun.model(dropout: 0.1)
        let resumed = try Trainer(run: run, corpus: corpus, paths: ["tiny"], model: model, training: training, resume: true)
        #expect(resumed.resumeChanges.map(\.flag) == ["--dropout", "--max-steps", "--lr"])
        #expect(resumed.model.config.dropout == 0.1)
        try resumed.train()
        let records = try TinyRun.records(run)
        let resume = try #require(records.first { $0.kind == .resume })
        #expect(resume.step == 10)
        #expect(resume.changes == ["--dropout": "0.2 -> 0.1", "--max-steps": "10 -> 15", "--lr": "0.01 -> 0.003"])
        let after = records.filter { $0.kind == .train && $0.step > 10 }
        #expect(after.count == 5)
        #expect(after.allSatisfy { $0.learningRate == 0.003 })
        #expect(try Checkpoint.load(from: run.url.path).configuration.model.dropout == 0.1)
    }

    @Test func resumeRefusesAFixedSettingNamingItsFlag() throws {
        let root = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = try TinyRun.corpus()
        let run = RunDirectory(root.appendingPathComponent("run"))
        try Trainer(run: run, corpus: corpus, paths: ["tiny"], model: TinyRun.model(),
                    training: TinyRun.training(steps: 5), resume: false).train()
        for (change, flag) in [({ (t: inout TrainingOptions) in t.batchSize = 3 }, "--batch"),
                               ({ (t: inout TrainingOptions) in t.seed = 7 }, "--seed"),
                               ({ (t: inout TrainingOptions) in t.optimizer.beta1 = 0.8 }, "--betas")] {
            var training = TinyRun.training(steps: 10)
            change(&training)
            do {
                _ = try Trainer(run: run, corpus: corpus, paths: ["tiny"], model: TinyRun.model(), training: training, resume: true)
                Issue.record("\(flag): a changed fixed setting was accepted")
            } catch let error as TrainingError {
                #expect("\(error)".hasPrefix("--resume: \(flag) is "), "\(error)")
            }
        }
    }

    @Test func initializeCopiesTheWeightsAndCountsUnknownUnits() throws {
        let root = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let source = RunDirectory(root.appendingPathComponent("source"))
        try Trainer(run: source, corpus: try TinyRun.corpus(), paths: ["tiny"], model: TinyRun.model(),
                    training: TinyRun.training(steps: 10), resume: false).train()
        let checkpoint = try Checkpoint.load(from: source.url.path)
        // The new text has units the vocabulary lacks: 'Q' (8 times) and 'é' (8 times).
        let text = String(repeating: "the mat sat. Qé ", count: 8) + String(repeating: "a cat on the mat. ", count: 30)
        let file = root.appendingPathComponent("new.txt")
        try Data(text.utf8).write(to: file)
        let corpus = try TokenCorpus.encode(paths: [file.path], vocabulary: checkpoint.vocabulary,
                                            validationFraction: 0.1, testFraction: 0.1)
        #expect(corpus.statistics.unknownUnits == 16)
        let run = RunDirectory(root.appendingPathComponent("tuned"))
        let trainer = try Trainer(run: run, corpus: corpus, paths: [file.path], model: TinyRun.model(),
                                  training: TinyRun.training(steps: 4), start: .initialize(checkpoint, path: source.url.path))
        #expect(trainer.model.parameters.values.array == checkpoint.model.parameters.values.array)
        var summary: TrainingSummary?
        let result = try trainer.train { if case .started(let s) = $0 { summary = s } }
        #expect(summary?.unknownUnits == 16)
        #expect(summary?.initializedFrom == source.url.path)
        #expect(result.steps == 4)  // a new run: its own step count from 0
        let tuned = try Checkpoint.load(from: run.url.path)
        #expect(tuned.configuration.initializedFrom == source.url.path)
        #expect(tuned.vocabulary == checkpoint.vocabulary)
        #expect(tuned.model.parameters.values.array != checkpoint.model.parameters.values.array)

        // The architecture is the checkpoint's.
        var wider = TinyRun.model()
        wider.layers = 1
        #expect(throws: TrainingError.self) {
            try Trainer(run: RunDirectory(root.appendingPathComponent("bad")), corpus: corpus, paths: [file.path], model: wider,
                        training: TinyRun.training(steps: 4), start: .initialize(checkpoint, path: source.url.path))
        }
    }

    @Test func patienceStopsAtTheFirstRunOfValidationsWithoutABest() throws {
        let root = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        var training = TinyRun.training(steps: 400)
        training.evalEvery = 1
        training.patience = 2
        training.optimizer = .adam(learningRate: 0.05)
        let run = RunDirectory(root.appendingPathComponent("run"))
        let result = try Trainer(run: run, corpus: try TinyRun.corpus(), paths: ["tiny"], model: TinyRun.model(),
                                 training: training, resume: false).train()
        // Recompute from the log where the stop had to happen.
        var best = Double.infinity, stalled = 0, expectedStop: Int?
        for record in try TinyRun.records(run) where record.kind == .eval {
            let loss = try #require(record.loss)
            if loss < best { best = loss; stalled = 0 } else { stalled += 1 }
            if stalled == 2 { expectedStop = record.step; break }
        }
        let stop = try #require(expectedStop, "the validation loss kept improving for 400 steps")
        #expect(result.stopReason == "patience")
        #expect(result.steps == stop)
        #expect(result.bestValidationLoss == best)
    }

    @Test func checkpointsByTimeAndStopRequests() throws {
        let root = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        var training = TinyRun.training(steps: 50)
        training.checkpointEvery = 0
        training.checkpointEverySeconds = 1e-9  // due after every step
        training.timeLimit = 1000
        let run = RunDirectory(root.appendingPathComponent("run"))
        let trainer = try Trainer(run: run, corpus: try TinyRun.corpus(), paths: ["tiny"], model: TinyRun.model(),
                                  training: training, resume: false)
        var saves: [Int] = [], steps = 0, remaining: [Double] = []
        let result = try trainer.train(onEvent: { event in
            switch event {
            case .saved(let step, _): saves.append(step)
            case .step(let report): steps = report.step; remaining.append(report.secondsRemaining ?? -1)
            default: break
            }
        }, stopRequested: { steps >= 3 })
        #expect(result.stopReason == "interrupted")
        #expect(result.steps == 3)
        #expect(saves == [1, 2, 3])
        // The nearest limit is the step limit or the time limit, whichever comes first.
        #expect(remaining.count == 3 && remaining.allSatisfy { $0 >= 0 && $0 <= 1000 })
        let (state, _) = try Checkpoint.loadTrainerState(from: run.latest.path, model: trainer.model.config, batchSize: 4)
        #expect(state.step == 3)
        // No closing evaluation after a stop request.
        #expect(try TinyRun.records(run).filter { $0.kind == .eval }.isEmpty)
    }
}
