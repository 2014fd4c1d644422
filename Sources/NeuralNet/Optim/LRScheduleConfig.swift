import Foundation

/// ReduceLROnPlateau settings (PyTorch semantics, mode "min", threshold mode "rel").
public struct PlateauSettings: Codable, Sendable, Equatable, Hashable {
    /// Multiplier applied to the learning rate on a plateau, in (0, 1).
    public var factor: Double
    /// Number of validations without improvement tolerated; the rate drops on the next one.
    public var patience: Int
    /// Relative improvement needed: a loss counts as better if `loss < best · (1 − threshold)`.
    public var threshold: Double = 1e-4
    /// Validations after a reduction during which bad validations are not counted.
    public var cooldown: Int = 0
    /// Lower bound of the learning rate.
    public var minLearningRate: Double = 0
    /// Reductions smaller than this (absolute) are not applied.
    public var eps: Double = 1e-8

    public init(factor: Double, patience: Int, threshold: Double = 1e-4, cooldown: Int = 0,
                minLearningRate: Double = 0, eps: Double = 1e-8) {
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.cooldown = cooldown
        self.minLearningRate = minLearningRate
        self.eps = eps
    }
}

/// The shape of the learning-rate curve and the clock it runs on.
public enum LRSchedule: Codable, Sendable, Equatable, Hashable {
    /// lr = base.
    case constant
    /// **Per epoch** (StepLR): lr = base · gamma^⌊epoch / every⌋.
    case step(every: Int, gamma: Double)
    /// **Per epoch** (ExponentialLR): lr = base · gamma^epoch.
    case exponential(gamma: Double)
    /// **Per optimizer step** (CosineAnnealingLR with T_max = total steps):
    /// lr = min + (base − min)·(1 + cos(π·step/total))/2, held at `minimum` after `total` steps
    /// (PyTorch's would rise again; a run's total is the end of training).
    case cosine(minimum: Double)
    /// **Per validation** (ReduceLROnPlateau): the rate drops by `factor` after more than `patience`
    /// validations without relative improvement.
    case plateau(PlateauSettings)
}

/// A learning-rate schedule plus an optional linear warmup, as chosen on the command line:
/// `--lr-schedule constant|step:EVERY:GAMMA|exp:GAMMA|cosine:MIN|plateau:FACTOR:PATIENCE[:COOLDOWN[:MIN_LR]]`
/// and `--warmup N`.
///
/// Warmup runs **per optimizer step** and multiplies the schedule's rate (like PyTorch's
/// `ChainedScheduler` of `LinearLR` and the main scheduler): factor (min(step, N) + 1)/(N + 1), i.e.
/// `LinearLR(start_factor: 1/(N+1), end_factor: 1, total_iters: N)`: step 0 uses lr/(N+1), step N and
/// later the full rate.
public struct LRScheduleConfig: Codable, Sendable, Equatable, Hashable, CustomStringConvertible {
    public var schedule: LRSchedule
    /// Number of warmup optimizer steps N ≥ 0 (0 = none).
    public var warmupSteps: Int

    public init(schedule: LRSchedule = .constant, warmupSteps: Int = 0) {
        self.schedule = schedule
        self.warmupSteps = warmupSteps
    }

    /// Parses `--lr-schedule` (`spec`) and `--warmup` (`warmup`). Throws a one-line `OptimConfigError`
    /// naming the option, the string and what is wrong.
    public static func parse(_ spec: String, warmup: Int = 0) throws -> LRScheduleConfig {
        guard warmup >= 0 else {
            throw OptimConfigError(option: "--warmup", message: "must be a number of steps >= 0, got \(warmup)")
        }
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func fail(_ message: String) -> OptimConfigError {
            OptimConfigError(option: "--lr-schedule '\(spec)'", message: message)
        }
        func arity(_ usage: String, _ counts: ClosedRange<Int>) throws {
            guard counts.contains(parts.count - 1) else { throw fail("expected \(usage)") }
        }
        func number(_ index: Int, _ name: String, _ ok: (Double) -> Bool, _ range: String) throws -> Double {
            guard let x = Double(parts[index]), x.isFinite else {
                throw fail("\(name) must be a number, got '\(parts[index])'")
            }
            guard ok(x) else { throw fail("\(name) must be \(range), got '\(parts[index])'") }
            return x
        }
        func integer(_ index: Int, _ name: String, minimum: Int) throws -> Int {
            guard let x = Int(parts[index]), x >= minimum else {
                let what = minimum == 0 ? "an integer >= 0" : "a positive integer"
                throw fail("\(name) must be \(what), got '\(parts[index])'")
            }
            return x
        }
        let schedule: LRSchedule
        switch parts[0].lowercased() {
        case "constant":
            try arity("'constant'", 0...0)
            schedule = .constant
        case "step":
            try arity("'step:EVERY:GAMMA' (EVERY epochs)", 2...2)
            schedule = .step(every: try integer(1, "EVERY", minimum: 1),
                             gamma: try number(2, "GAMMA", { $0 > 0 }, "> 0"))
        case "exp":
            try arity("'exp:GAMMA' (per epoch)", 1...1)
            schedule = .exponential(gamma: try number(1, "GAMMA", { $0 > 0 }, "> 0"))
        case "cosine":
            try arity("'cosine:MIN' (MIN = final learning rate)", 1...1)
            schedule = .cosine(minimum: try number(1, "MIN", { $0 >= 0 }, ">= 0"))
        case "plateau":
            try arity("'plateau:FACTOR:PATIENCE[:COOLDOWN[:MIN_LR]]'", 2...4)
            var settings = PlateauSettings(factor: try number(1, "FACTOR", { $0 > 0 && $0 < 1 }, "in (0, 1)"),
                                           patience: try integer(2, "PATIENCE", minimum: 0))
            if parts.count > 3 { settings.cooldown = try integer(3, "COOLDOWN", minimum: 0) }
            if parts.count > 4 { settings.minLearningRate = try number(4, "MIN_LR", { $0 >= 0 }, ">= 0") }
            schedule = .plateau(settings)
        default:
            throw fail("unknown schedule '\(parts[0])', expected constant, step:EVERY:GAMMA, exp:GAMMA, "
                       + "cosine:MIN or plateau:FACTOR:PATIENCE")
        }
        let config = LRScheduleConfig(schedule: schedule, warmupSteps: warmup)
        try config.validate()
        return config
    }

    /// Throws a one-line error (option `--lr-schedule SPEC`) if a value is out of the range `parse`
    /// accepts; used for configs that did not come from `parse` (e.g. decoded from a checkpoint).
    public func validate() throws {
        func fail(_ message: String) -> OptimConfigError {
            OptimConfigError(option: "--lr-schedule '\(specification)'", message: message)
        }
        guard warmupSteps >= 0 else {
            throw OptimConfigError(option: "--warmup", message: "must be a number of steps >= 0, got \(warmupSteps)")
        }
        switch schedule {
        case .constant:
            break
        case let .step(every, gamma):
            guard every >= 1 else { throw fail("EVERY must be a positive integer") }
            guard gamma.isFinite, gamma > 0 else { throw fail("GAMMA must be > 0") }
            guard gamma <= 1 else { throw fail("GAMMA must be ≤ 1 (the rate decays), got \(gamma)") }
        case let .exponential(gamma):
            guard gamma.isFinite, gamma > 0 else { throw fail("GAMMA must be > 0") }
            guard gamma <= 1 else { throw fail("GAMMA must be ≤ 1 (the rate decays), got \(gamma)") }
        case let .cosine(minimum):
            guard minimum.isFinite, minimum >= 0 else { throw fail("MIN must be >= 0") }
        case let .plateau(p):
            guard p.factor > 0, p.factor < 1 else { throw fail("FACTOR must be in (0, 1)") }
            guard p.patience >= 0 else { throw fail("PATIENCE must be an integer >= 0") }
            guard p.cooldown >= 0 else { throw fail("COOLDOWN must be an integer >= 0") }
            guard p.minLearningRate.isFinite, p.minLearningRate >= 0 else { throw fail("MIN_LR must be >= 0") }
            guard p.threshold.isFinite, p.threshold >= 0, p.threshold < 1 else { throw fail("threshold must be in [0, 1)") }
            guard p.eps.isFinite, p.eps >= 0 else { throw fail("eps must be >= 0") }
        }
    }

    /// `validate()`, and the bounds that depend on the base learning rate (`baseLearningRate`, the
    /// optimizer's `--lr`): a cosine MIN and a plateau MIN_LR are lower bounds the rate decays to, so
    /// they may not exceed it (cosine:1e30 would otherwise drive the rate up to 1e30).
    public func validate(baseLearningRate: Double) throws {
        try validate()
        let floor: (Double, String)? = switch schedule {
        case let .cosine(minimum): (minimum, "MIN")
        case let .plateau(p): (p.minLearningRate, "MIN_LR")
        default: nil
        }
        if let (minimum, name) = floor, minimum > baseLearningRate {
            throw OptimConfigError(option: "--lr-schedule '\(specification)'",
                                   message: "\(name) must not exceed the learning rate (--lr \(baseLearningRate)), got \(minimum)")
        }
    }

    /// The `--lr-schedule` string that parses back to `schedule` (warmup not included).
    public var specification: String {
        switch schedule {
        case .constant: "constant"
        case let .step(every, gamma): "step:\(every):\(gamma)"
        case let .exponential(gamma): "exp:\(gamma)"
        case let .cosine(minimum): "cosine:\(minimum)"
        case let .plateau(p): "plateau:\(p.factor):\(p.patience):\(p.cooldown):\(p.minLearningRate)"
        }
    }

    public var description: String {
        warmupSteps > 0 ? "\(specification) with \(warmupSteps) warmup steps" : specification
    }
}
