import Foundation
import Testing
@testable import NeuralNet

/// Learning-rate schedules against torch.optim.lr_scheduler, the `--lr-schedule` parser, and state.
@Suite struct ScheduleTests {
    /// Our closed forms vs PyTorch's recursive (chainable) updates in Double: they differ by rounding
    /// only, a few ulp after a dozen multiplications; 1e-12 relative (plus 1e-15 absolute at lr = 0).
    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-12 * abs(b) + 1e-15 }

    @Test func matchesPyTorchSchedulers() throws {
        let file = try OptimFixtures.loadSchedules()
        #expect(file.cases.count == 8)
        for c in file.cases {
            let config = try LRScheduleConfig.parse(c.spec, warmup: c.warmup ?? 0)
            var scheduler = try LRScheduler(config: config, baseLearningRate: c.base_lr, totalSteps: c.total_steps)
            for (t, expected) in c.lrs.enumerated() {
                let lr: Double
                switch c.clock {
                case "epoch":
                    // Epoch-clocked: any step inside epoch t gives the same rate.
                    lr = scheduler.learningRate(step: 1000 * t + 7, epoch: t)
                    #expect(lr == scheduler.learningRate(step: 1000 * t, epoch: t))
                case "step":
                    lr = scheduler.learningRate(step: t, epoch: 0)
                case "validation":
                    lr = scheduler.learningRate(step: 50 + t, epoch: t)
                    if t < c.lrs.count - 1 { scheduler.recordValidation(loss: c.losses![t]) }
                default:
                    Issue.record("unknown clock \(c.clock)")
                    return
                }
                #expect(Self.close(lr, expected), "\(c.name) tick \(t): \(lr) vs torch \(expected)")
            }
        }
    }

    @Test func cosineHoldsMinimumAfterTotalSteps() throws {
        let s = try LRScheduler(config: .parse("cosine:0.01"), baseLearningRate: 1, totalSteps: 100)
        #expect(s.learningRate(step: 0, epoch: 0) == 1)
        #expect(s.learningRate(step: 100, epoch: 0) == 0.01)
        #expect(s.learningRate(step: 250, epoch: 3) == 0.01)
        #expect(s.learningRate(step: 50, epoch: 0) > 0.5)
    }

    @Test func warmupComposesWithEpochSchedules() throws {
        let s = try LRScheduler(config: .parse("step:2:0.1", warmup: 3), baseLearningRate: 1)
        #expect(s.learningRate(step: 0, epoch: 0) == 0.25)
        #expect(s.learningRate(step: 3, epoch: 0) == 1)
        #expect(abs(s.learningRate(step: 1, epoch: 2) - 0.05) < 1e-15)
        #expect(abs(s.learningRate(step: 99, epoch: 4) - 0.01) < 1e-15)
    }

    @Test func nonPlateauSchedulesIgnoreValidations() throws {
        var s = try LRScheduler(config: .parse("exp:0.5"), baseLearningRate: 1)
        let before = s
        for _ in 0..<10 {
            let reduced = s.recordValidation(loss: 10)
            #expect(!reduced)
        }
        #expect(s == before)
    }

    @Test func plateauTreatsNaNAsNoImprovement() throws {
        var s = try LRScheduler(config: .parse("plateau:0.5:1"), baseLearningRate: 1)
        s.recordValidation(loss: 2)
        let first = s.recordValidation(loss: .nan)
        let second = s.recordValidation(loss: .nan)
        #expect(!first)
        #expect(second)
        #expect(s.learningRate(step: 0, epoch: 0) == 0.5)
        #expect(s.plateau.reductions == 1)
        #expect(s.plateau.best == 2)
    }

    /// Saving mid-run (JSON) and continuing gives exactly the rates of an uninterrupted run.
    @Test func stateRoundTripsExactly() throws {
        let losses = [3.0, 2.9, 2.95, 2.97, 2.99, 2.5, 2.6, 2.7, 2.8, 2.9, 3.0]
        let config = try LRScheduleConfig.parse("plateau:0.7:1:1:0.01", warmup: 2)
        var straight = try LRScheduler(config: config, baseLearningRate: 0.3)
        var resumed = straight
        var a: [Double] = [], b: [Double] = []
        for (t, loss) in losses.enumerated() {
            a.append(straight.learningRate(step: t, epoch: t))
            straight.recordValidation(loss: loss)
        }
        for (t, loss) in losses.enumerated() {
            if t == 5 {
                let data = try JSONEncoder().encode(resumed)
                resumed = try JSONDecoder().decode(LRScheduler.self, from: data)
            }
            b.append(resumed.learningRate(step: t, epoch: t))
            resumed.recordValidation(loss: loss)
        }
        #expect(a == b)
        #expect(straight == resumed)
        #expect(straight.plateau.reductions >= 2)
    }

    @Test func parserAcceptsEveryForm() throws {
        #expect(try LRScheduleConfig.parse("constant").schedule == .constant)
        #expect(try LRScheduleConfig.parse("step:5:0.5").schedule == .step(every: 5, gamma: 0.5))
        #expect(try LRScheduleConfig.parse("exp:0.97").schedule == .exponential(gamma: 0.97))
        #expect(try LRScheduleConfig.parse("cosine:1e-5").schedule == .cosine(minimum: 1e-5))
        #expect(try LRScheduleConfig.parse("plateau:0.5:3").schedule == .plateau(PlateauSettings(factor: 0.5, patience: 3)))
        #expect(try LRScheduleConfig.parse("plateau:0.5:3:2:1e-4").schedule
                == .plateau(PlateauSettings(factor: 0.5, patience: 3, cooldown: 2, minLearningRate: 1e-4)))
        #expect(try LRScheduleConfig.parse("constant", warmup: 100).warmupSteps == 100)
        for spec in ["constant", "step:5:0.5", "exp:0.97", "cosine:1e-05", "plateau:0.5:3:2:0.0001"] {
            let config = try LRScheduleConfig.parse(spec)
            #expect(try LRScheduleConfig.parse(config.specification) == config)
        }
    }

    @Test(arguments: [
        ("", "unknown schedule ''"),
        ("linear", "unknown schedule 'linear'"),
        ("step", "expected 'step:EVERY:GAMMA'"),
        ("step:5", "expected 'step:EVERY:GAMMA'"),
        ("step:x:0.5", "EVERY must be a positive integer, got 'x'"),
        ("step:0:0.5", "EVERY must be a positive integer, got '0'"),
        ("step:5:-1", "GAMMA must be > 0, got '-1'"),
        ("exp:abc", "GAMMA must be a number, got 'abc'"),
        ("exp:0.9:1", "expected 'exp:GAMMA'"),
        ("cosine:", "MIN must be a number, got ''"),
        ("cosine:-1", "MIN must be >= 0"),
        ("plateau:2:3", "FACTOR must be in (0, 1), got '2'"),
        ("plateau:0.5:-1", "PATIENCE must be an integer >= 0, got '-1'"),
        ("plateau:0.5:1:2:3:4", "expected 'plateau:FACTOR:PATIENCE"),
        ("constant:1", "expected 'constant'"),
    ])
    func parserRejectsMalformedStrings(spec: String, message: String) {
        do {
            _ = try LRScheduleConfig.parse(spec)
            Issue.record("'\(spec)' parsed")
        } catch let error as OptimConfigError {
            #expect(error.description.hasPrefix("--lr-schedule '\(spec)': "))
            #expect(error.description.contains(message), "\(error)")
            #expect(!error.description.contains("\n"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func rejectsBadWarmupAndMissingTotal() throws {
        #expect(throws: OptimConfigError.self) { try LRScheduleConfig.parse("constant", warmup: -1) }
        let cosine = try LRScheduleConfig.parse("cosine:0")
        #expect(throws: OptimConfigError.self) { try LRScheduler(config: cosine, baseLearningRate: 0.1) }
        #expect(throws: OptimConfigError.self) { try LRScheduler(config: cosine, baseLearningRate: 0.1, totalSteps: 0) }
        #expect(throws: OptimConfigError.self) { try LRScheduler(config: .init(), baseLearningRate: 0) }
    }
}

@Suite struct ScheduleStateValidationTests {
    /// A corrupt saved schedule (EVERY = 0 would divide by zero) is rejected when decoded.
    @Test func decodingValidates() throws {
        let good = try LRScheduler(config: .parse("step:3:0.5"), baseLearningRate: 0.1)
        let json = String(decoding: try JSONEncoder().encode(good), as: UTF8.self)
        #expect(json.contains("\"every\":3"))
        let bad = json.replacingOccurrences(of: "\"every\":3", with: "\"every\":0")
        do {
            _ = try JSONDecoder().decode(LRScheduler.self, from: Data(bad.utf8))
            Issue.record("decoded a schedule with EVERY = 0")
        } catch let error as OptimConfigError {
            #expect(error.description.contains("EVERY must be a positive integer"))
        }
        let cosine = try LRScheduler(config: .parse("cosine:0"), baseLearningRate: 0.1, totalSteps: 10)
        let noTotal = String(decoding: try JSONEncoder().encode(cosine), as: UTF8.self)
            .replacingOccurrences(of: "\"totalSteps\":10", with: "\"totalSteps\":0")
        #expect(throws: OptimConfigError.self) { try JSONDecoder().decode(LRScheduler.self, from: Data(noTotal.utf8)) }
        #expect(try JSONDecoder().decode(LRScheduler.self, from: JSONEncoder().encode(cosine)) == cosine)
    }
}
