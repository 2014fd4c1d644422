// libFuzzer target: LRScheduleConfig.parse (--lr-schedule, --warmup) on arbitrary strings. The first
// byte is the warmup (−16…239 steps); the rest, decoded as UTF-8, is the schedule string.
// Properties: parsing never crashes; an accepted schedule's `specification` parses back to the same
// schedule; a scheduler built from it never gives a NaN or negative rate, and never more than the
// larger of the base rate and the schedule's own floor unless the schedule grows by design (a
// step/exp GAMMA above 1 is accepted: the rate then grows without bound, to +inf at late epochs).
import Foundation
import NeuralNet

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size > 0, let data else { return 0 }
    let warmup = Int(data[0]) - 16
    let spec = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
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
    case let .step(_, gamma), let .exponential(gamma): bound = gamma > 1 ? .infinity : base
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
