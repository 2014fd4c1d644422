import CharRNN
import Foundation

/// Renders training events on standard error: a live line on a terminal, plain periodic lines
/// otherwise (logs, CI).
struct TrainingProgress {
    let quiet: Bool
    let live = isatty(STDERR_FILENO) != 0
    var planned: Int?
    var lastPrinted = Date.distantPast

    init(quiet: Bool) { self.quiet = quiet }

    static func write(_ text: String) { StandardOutput.writeError(text) }

    static func format(_ value: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", value) }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m" : s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }

    mutating func handle(_ event: TrainingEvent) {
        if case .warning(let message) = event {  // shown even with --quiet
            CLIErrors.printWarning(message)
            return
        }
        guard !quiet else { return }
        switch event {
        case .started(let summary):
            planned = summary.plannedSteps
            var line = "parameters \(summary.parameterCount.formatted()), vocabulary \(summary.vocabularySize), "
                + "units train \(summary.trainUnits.formatted()) / validation \(summary.validationUnits.formatted()) / test \(summary.testUnits.formatted()), "
                + "\(summary.windowsPerEpoch) windows per epoch"
            if let step = summary.resumedFromStep { line += ", resuming at step \(step)" }
            if let source = summary.initializedFrom, summary.resumedFromStep == nil { line += ", weights from \(source)" }
            Self.write(line + "\n")
            if !summary.resumeChanges.isEmpty {
                Self.write("changed on resume: " + summary.resumeChanges.map { "\($0.flag) \($0.old) -> \($0.new)" }.joined(separator: ", ") + "\n")
            }
            if summary.unknownUnits > 0 {
                let total = summary.trainUnits + summary.validationUnits + summary.testUnits
                let share = Self.format(100 * Double(summary.unknownUnits) / Double(max(total, 1)), 2)
                Self.write("\(summary.unknownUnits.formatted()) units (\(share)% of the corpus) are outside the vocabulary and count as <unk>\n")
            }
        case .step(let report):
            let total = planned.map { "/\($0)" } ?? ""
            var line = "step \(report.step)\(total)  epoch \(report.epoch)  loss \(Self.format(report.loss))"
                + "  bpc \(Self.format(report.loss / log(2)))"
            if let validation = report.lastValidationLoss { line += "  val \(Self.format(validation))" }
            line += "  \(Int(report.unitsPerSecond).formatted()) units/s  |g| \(Self.format(report.gradNorm, 2))"
                + "  clip \(Self.format(report.clipRate * 100, 0))%"
            if report.skipped { line += "  (skipped: non-finite gradient)" }
            if let remaining = report.secondsRemaining { line += "  ETA \(Self.duration(remaining))" }
            if live {
                Self.write("\r\u{1B}[2K" + line)
            } else if Date().timeIntervalSince(lastPrinted) >= 10 || report.step == 1 {
                lastPrinted = Date()
                Self.write(line + "\n")
            }
        case .evaluated(let step, let loss, let isBest):
            let line = "step \(step): validation loss \(Self.format(loss)) nats, \(Self.format(loss / log(2))) bpc\(isBest ? " (best)" : "")"
            Self.write((live ? "\r\u{1B}[2K" : "") + line + "\n")
        case .saved, .warning:
            break
        }
    }

    func finish(_ result: TrainingResult, out: String) {
        guard !quiet else { return }
        var line = (live ? "\r\u{1B}[2K" : "") + "stopped (\(result.stopReason)) at step \(result.steps) after \(Self.duration(result.elapsed)) of training"
        if let best = result.bestValidationLoss { line += "; best validation loss \(Self.format(best)) nats (\(Self.format(best / log(2))) bpc)" }
        if result.skippedSteps > 0 { line += "; \(result.skippedSteps) steps skipped for non-finite gradients" }
        let checkpoints = result.bestValidationLoss == nil ? "\(out)/latest" : "\(out)/latest, \(out)/best"
        Self.write(line + "\ncheckpoints: \(checkpoints)\n")
    }
}
