// libFuzzer target: the option parsers of training on arbitrary strings — LRScheduleConfig.parse
// (--lr-schedule, --warmup) and DurationText (--time-limit, --checkpoint-every). The first byte is the
// warmup (−16…239 steps); the rest, decoded as UTF-8, is the schedule / duration string.
// Properties: parsing never crashes; an accepted schedule's `specification` parses back to the same
// schedule; a scheduler built from it never gives a NaN or negative rate, and never more than the
// larger of the base rate and the schedule's own floor (GAMMA above 1 is refused: schedules only
// decay); an accepted duration is finite and > 0, and the same number of seconds written as "Ns"
// parses to the same value; a cadence is steps ≥ 0 or a duration.
import CharRNN
import Foundation
import NeuralNet

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size > 0, let data else { return 0 }
    let warmup = Int(data[0]) - 16
    let spec = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
    if let seconds = try? DurationText.seconds(spec, option: "--time-limit") {
        precondition(seconds.isFinite && seconds > 0, "'\(spec)' gives \(seconds) s")
        precondition((try? DurationText.seconds("\(seconds)s", option: "--time-limit")) == seconds, "'\(spec)' does not round-trip")
    }
    if let cadence = try? DurationText.cadence(spec, option: "--checkpoint-every") {
        precondition(cadence.steps >= 0 && (cadence.seconds.map { $0.isFinite && $0 > 0 } ?? true), "'\(spec)' gives \(cadence)")
    }
    guard let config = try? LRScheduleConfig.parse(spec, warmup: warmup) else { return 0 }
    precondition(config.warmupSteps == warmup, "warmup changed")
    do {
        let again = try LRScheduleConfig.parse(config.specification, warmup: warmup)
        precondition(again == config, "'\(spec)' → '\(config.specification)' parses to a different schedule")
    } catch {
        fatalError("the specification '\(config.specification)' of an accepted '\(spec)' is refused: \(error)")
    }
    let base = 0.002
    guard var scheduler = try? LRScheduler(config: config, baseLearningRate: base, totalSteps: 1000) else { return 0 }
    let bound: Double
    switch config.schedule {
    case .constant: bound = base
    case let .step(_, gamma), let .exponential(gamma):
        precondition(gamma > 0 && gamma <= 1, "'\(spec)': GAMMA \(gamma) accepted")
        bound = base
    case let .cosine(minimum): bound = max(base, minimum)
    case let .plateau(settings): bound = max(base, settings.minLearningRate)
    }
    for (step, epoch) in [(0, 0), (1, 0), (500, 3), (1000, 10), (5000, 1000), (Int.max, Int.max)] {
        let rate = scheduler.learningRate(step: step, epoch: epoch)
        precondition(!rate.isNaN && rate >= 0 && rate <= bound,
                     "'\(spec)' gives learning rate \(rate) at step \(step), epoch \(epoch)")
        _ = scheduler.recordValidation(loss: Double(step % 7))
    }
    return 0
}
