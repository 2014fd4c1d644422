import Foundation

/// The learning rate as a function of (optimizer step, epoch, validation history).
///
/// Clocks: `step` counts optimizer steps already taken (0 for the first step of training), `epoch`
/// counts completed epochs (0 during the first). Warmup and `.cosine` follow `step`; `.step` and
/// `.exponential` follow `epoch`; `.plateau` changes only in `recordValidation`. Call
/// `learningRate(step:epoch:)` before every optimizer step; it has no side effects.
///
/// Matches `torch.optim.lr_scheduler` (StepLR, ExponentialLR, CosineAnnealingLR, LinearLR,
/// ReduceLROnPlateau) stepped on the same clocks; the whole state is Codable (save/restore exact).
public struct LRScheduler: Codable, Sendable, Equatable {
    public let config: LRScheduleConfig
    /// The optimizer's configured learning rate, the schedule's 1.0.
    public let baseLearningRate: Double
    /// Total optimizer steps of the run (needed by `.cosine`, ignored otherwise).
    public let totalSteps: Int?

    /// ReduceLROnPlateau bookkeeping (unused by the other schedules).
    public struct PlateauState: Codable, Sendable, Equatable {
        /// Learning rate after the reductions so far (before warmup).
        public var learningRate: Double
        /// Best validation loss seen; nil (PyTorch's +inf, which JSON cannot hold) before any.
        public var best: Double?
        /// Consecutive validations without improvement.
        public var badValidations: Int = 0
        /// Remaining cooldown validations.
        public var cooldownCounter: Int = 0
        /// Number of reductions applied.
        public var reductions: Int = 0
    }
    public private(set) var plateau: PlateauState

    /// Throws a one-line error if `config` is out of range, `.cosine` lacks a positive `totalSteps`
    /// or `baseLearningRate` ≤ 0.
    public init(config: LRScheduleConfig, baseLearningRate: Double, totalSteps: Int? = nil) throws {
        try Self.validate(config: config, baseLearningRate: baseLearningRate, totalSteps: totalSteps)
        self.config = config
        self.baseLearningRate = baseLearningRate
        self.totalSteps = totalSteps
        plateau = PlateauState(learningRate: baseLearningRate)
    }

    private static func validate(config: LRScheduleConfig, baseLearningRate: Double, totalSteps: Int?) throws {
        guard baseLearningRate.isFinite, baseLearningRate > 0 else {
            throw OptimConfigError(option: "--lr", message: "must be a finite number > 0, got \(baseLearningRate)")
        }
        try config.validate(baseLearningRate: baseLearningRate)
        if case .cosine = config.schedule, (totalSteps ?? 0) <= 0 {
            throw OptimConfigError(option: "--lr-schedule '\(config.specification)'",
                                   message: "needs the run's total number of steps (> 0)")
        }
    }

    private enum CodingKeys: String, CodingKey {
        case config, baseLearningRate, totalSteps, plateau
    }

    /// Decodes a saved scheduler, validating it like `init(config:baseLearningRate:totalSteps:)` (a
    /// corrupt state file gives a one-line `OptimConfigError`, never a crash later).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        config = try c.decode(LRScheduleConfig.self, forKey: .config)
        baseLearningRate = try c.decode(Double.self, forKey: .baseLearningRate)
        totalSteps = try c.decodeIfPresent(Int.self, forKey: .totalSteps)
        plateau = try c.decode(PlateauState.self, forKey: .plateau)
        try Self.validate(config: config, baseLearningRate: baseLearningRate, totalSteps: totalSteps)
        guard plateau.learningRate.isFinite, plateau.learningRate >= 0, plateau.badValidations >= 0,
              plateau.cooldownCounter >= 0, plateau.reductions >= 0, plateau.best?.isFinite ?? true else {
            throw OptimConfigError(option: "lr schedule state", message: "invalid plateau state \(plateau)")
        }
    }

    /// Warmup multiplier at optimizer step `step`: (min(step, N) + 1)/(N + 1), 1 without warmup.
    public func warmupFactor(step: Int) -> Double {
        let n = config.warmupSteps
        guard n > 0 else { return 1 }
        return Double(min(max(step, 0), n) + 1) / Double(n + 1)
    }

    /// The learning rate for the optimizer step taken after `step` steps, during epoch `epoch`
    /// (0-based), given the validations recorded so far.
    public func learningRate(step: Int, epoch: Int) -> Double {
        let rate: Double
        switch config.schedule {
        case .constant:
            rate = baseLearningRate
        case let .step(every, gamma):
            rate = baseLearningRate * pow(gamma, Double(max(epoch, 0) / every))
        case let .exponential(gamma):
            rate = baseLearningRate * pow(gamma, Double(max(epoch, 0)))
        case let .cosine(minimum):
            let total = totalSteps ?? 1
            let t = Double(min(max(step, 0), total))
            rate = minimum + (baseLearningRate - minimum) * (1 + cos(Double.pi * t / Double(total))) / 2
        case .plateau:
            rate = plateau.learningRate
        }
        return rate * warmupFactor(step: step)
    }

    /// Records a validation loss (ReduceLROnPlateau's `step(metrics)`); returns true if the rate was
    /// reduced. A NaN loss counts as no improvement. No effect for schedules other than `.plateau`.
    @discardableResult
    public mutating func recordValidation(loss: Double) -> Bool {
        guard case let .plateau(s) = config.schedule else { return false }
        if loss < (plateau.best ?? .infinity) * (1 - s.threshold) {
            plateau.best = loss
            plateau.badValidations = 0
        } else {
            plateau.badValidations += 1
        }
        if plateau.cooldownCounter > 0 {
            plateau.cooldownCounter -= 1
            plateau.badValidations = 0
        }
        guard plateau.badValidations > s.patience else { return false }
        plateau.cooldownCounter = s.cooldown
        plateau.badValidations = 0
        let old = plateau.learningRate
        let new = max(old * s.factor, s.minLearningRate)
        guard old - new > s.eps else { return false }
        plateau.learningRate = new
        plateau.reductions += 1
        return true
    }
}
