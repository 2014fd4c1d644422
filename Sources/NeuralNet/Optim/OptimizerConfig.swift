import Foundation

/// The optimizer algorithm. Formulas are PyTorch's (`torch.optim.SGD`, `RMSprop`, `Adam`, `AdamW`,
/// single-tensor CPU path); see `Optimizer` for each update written out.
public enum OptimizerKind: String, Codable, Sendable, CaseIterable {
    case sgd, rmsprop, adam, adamw
}

/// All hyperparameters of an optimizer; fields an algorithm does not use are ignored (and must keep
/// their neutral value so a config is unambiguous, see `validate()`).
///
/// Weight decay is an L2 term added to the gradient (`g += weightDecay · p`) for SGD, RMSProp and
/// Adam, and decoupled (`p *= 1 − lr · weightDecay` before the Adam update) for AdamW.
public struct OptimizerConfig: Codable, Sendable, Equatable, Hashable {
    public var kind: OptimizerKind
    /// Base learning rate (a schedule may override it per step). > 0.
    public var learningRate: Double
    /// SGD/RMSProp momentum in [0, 1). 0 = none.
    public var momentum: Double = 0
    /// SGD dampening in [0, 1]: momentum buffer b ← momentum·b + (1 − dampening)·g.
    public var dampening: Double = 0
    /// SGD Nesterov momentum (needs momentum > 0 and dampening 0, as in PyTorch).
    public var nesterov: Bool = false
    /// RMSProp smoothing constant (PyTorch `alpha`, char-rnn `decay_rate`) in [0, 1).
    public var alpha: Double = 0.99
    /// RMSProp centered variant (Graves 2013): divides by √(E[g²] − E[g]²) + eps.
    public var centered: Bool = false
    /// Adam/AdamW first-moment decay β₁ in [0, 1).
    public var beta1: Double = 0.9
    /// Adam/AdamW second-moment decay β₂ in [0, 1).
    public var beta2: Double = 0.999
    /// RMSProp/Adam denominator epsilon (added *after* the square root, as in PyTorch). > 0.
    public var eps: Double = 1e-8
    /// L2 (SGD, RMSProp, Adam) or decoupled (AdamW) weight decay ≥ 0.
    public var weightDecay: Double = 0

    public init(kind: OptimizerKind, learningRate: Double) {
        self.kind = kind
        self.learningRate = learningRate
        if kind == .adamw { weightDecay = 1e-2 }
    }

    /// `torch.optim.SGD`.
    public static func sgd(learningRate: Double, momentum: Double = 0, dampening: Double = 0, nesterov: Bool = false,
                           weightDecay: Double = 0) -> OptimizerConfig {
        var c = OptimizerConfig(kind: .sgd, learningRate: learningRate)
        c.momentum = momentum; c.dampening = dampening; c.nesterov = nesterov; c.weightDecay = weightDecay
        return c
    }

    /// `torch.optim.RMSprop` (PyTorch's defaults: alpha 0.99, eps 1e-8).
    public static func rmsprop(learningRate: Double, alpha: Double = 0.99, eps: Double = 1e-8, momentum: Double = 0,
                               centered: Bool = false, weightDecay: Double = 0) -> OptimizerConfig {
        var c = OptimizerConfig(kind: .rmsprop, learningRate: learningRate)
        c.alpha = alpha; c.eps = eps; c.momentum = momentum; c.centered = centered; c.weightDecay = weightDecay
        return c
    }

    /// `torch.optim.Adam` (L2 weight decay added to the gradient).
    public static func adam(learningRate: Double, beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8,
                            weightDecay: Double = 0) -> OptimizerConfig {
        var c = OptimizerConfig(kind: .adam, learningRate: learningRate)
        c.beta1 = beta1; c.beta2 = beta2; c.eps = eps; c.weightDecay = weightDecay
        return c
    }

    /// `torch.optim.AdamW` (decoupled weight decay, PyTorch default 1e-2).
    public static func adamw(learningRate: Double, beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8,
                             weightDecay: Double = 1e-2) -> OptimizerConfig {
        var c = OptimizerConfig(kind: .adamw, learningRate: learningRate)
        c.beta1 = beta1; c.beta2 = beta2; c.eps = eps; c.weightDecay = weightDecay
        return c
    }

    /// char-rnn's optimizer: RMSProp with learning rate 2e-3, decay (alpha) 0.95, epsilon 1e-8.
    ///
    /// char-rnn calls torch7 `optim.rmsprop`, whose update is
    /// `m ← α·m + (1−α)·g²;  x ← x − lr · g / (√m + ε)` with m starting at 0 — the same formula as
    /// PyTorch's RMSprop (ε outside the square root). Implementations that put ε *inside* the root,
    /// `g / √(m + ε)` (TensorFlow/Keras RMSProp, Hinton's lecture slides), differ noticeably while m is
    /// tiny: with ε = 1e-8 the first step there is ≈ lr·g/√((1−α)g² + 1e-8), here lr·g/(√((1−α)g²) + 1e-8).
    /// This package implements PyTorch's placement, so char-rnn's hyperparameters reproduce char-rnn.
    public static let charRNN = OptimizerConfig.rmsprop(learningRate: 2e-3, alpha: 0.95, eps: 1e-8)

    /// The configuration the CLI starts from for `--optimizer NAME` before explicit options:
    /// sgd: lr 0.1, no momentum; rmsprop: `charRNN` (lr 2e-3, alpha 0.95, eps 1e-8);
    /// adam: torch-rnn's lr 2e-3, betas (0.9, 0.999), eps 1e-8; adamw: same with weight decay 1e-2.
    public static func defaults(for kind: OptimizerKind) -> OptimizerConfig {
        switch kind {
        case .sgd: .sgd(learningRate: 0.1)
        case .rmsprop: .charRNN
        case .adam: .adam(learningRate: 2e-3)
        case .adamw: .adamw(learningRate: 2e-3)
        }
    }

    /// Builds a config from command-line values: `optimizer` is `sgd|rmsprop|adam|adamw`, nil options
    /// keep `base` when it is of the same kind, else `defaults(for:)`; `betas` is `"B1,B2"`. Options
    /// that the chosen optimizer does not use (momentum for Adam, betas for SGD, …) are rejected rather
    /// than silently ignored.
    public init(optimizer: String, learningRate: Double? = nil, momentum: Double? = nil, nesterov: Bool = false,
                alpha: Double? = nil, betas: String? = nil, eps: Double? = nil, weightDecay: Double? = nil,
                base: OptimizerConfig? = nil) throws {
        guard let kind = OptimizerKind(rawValue: optimizer.lowercased()) else {
            throw OptimConfigError(option: "--optimizer",
                                   message: "unknown optimizer '\(optimizer)', expected sgd, rmsprop, adam or adamw")
        }
        var c = base.flatMap { $0.kind == kind ? $0 : nil } ?? OptimizerConfig.defaults(for: kind)
        func reject(_ option: String) throws -> Never {
            throw OptimConfigError(option: option, message: "not used by --optimizer \(kind.rawValue)")
        }
        if let learningRate { c.learningRate = learningRate }
        if let momentum {
            guard kind == .sgd || kind == .rmsprop else { try reject("--momentum") }
            c.momentum = momentum
        }
        if nesterov {
            guard kind == .sgd else { try reject("--nesterov") }
            c.nesterov = true
        }
        if let alpha {
            guard kind == .rmsprop else { try reject("--alpha") }
            c.alpha = alpha
        }
        if let betas {
            guard kind == .adam || kind == .adamw else { try reject("--betas") }
            let parts = betas.split(separator: ",", omittingEmptySubsequences: false)
                .map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let b1 = parts[0], let b2 = parts[1] else {
                throw OptimConfigError(option: "--betas", message: "expected 'BETA1,BETA2' (e.g. 0.9,0.999), got '\(betas)'")
            }
            c.beta1 = b1; c.beta2 = b2
        }
        if let eps {
            guard kind != .sgd else { try reject("--eps") }
            c.eps = eps
        }
        if let weightDecay { c.weightDecay = weightDecay }
        try c.validate()
        self = c
    }

    /// Throws a one-line error naming the offending option if a hyperparameter is out of range.
    public func validate() throws {
        func check(_ ok: Bool, _ option: String, _ what: String, _ value: Double) throws {
            if !ok { throw OptimConfigError(option: option, message: "must be \(what), got \(value)") }
        }
        try check(learningRate.isFinite && learningRate > 0, "--lr", "a finite number > 0", learningRate)
        try check(momentum >= 0 && momentum < 1, "--momentum", "in [0, 1)", momentum)
        try check(dampening >= 0 && dampening <= 1, "--dampening", "in [0, 1]", dampening)
        try check(alpha >= 0 && alpha < 1, "--alpha", "in [0, 1)", alpha)
        try check(beta1 >= 0 && beta1 < 1, "--betas", "in [0, 1) for beta1", beta1)
        try check(beta2 >= 0 && beta2 < 1, "--betas", "in [0, 1) for beta2", beta2)
        try check(eps.isFinite && eps > 0, "--eps", "a finite number > 0", eps)
        try check(weightDecay.isFinite && weightDecay >= 0, "--weight-decay", "a finite number >= 0", weightDecay)
        if nesterov && (momentum <= 0 || dampening != 0) {
            throw OptimConfigError(option: "--nesterov", message: "needs --momentum > 0 and zero dampening")
        }
    }
}

extension OptimizerConfig: CustomStringConvertible {
    /// One line for logs, e.g. `adam lr=0.002 betas=(0.9, 0.999) eps=1e-08 weight_decay=0.0`.
    public var description: String {
        var parts = ["\(kind.rawValue) lr=\(learningRate)"]
        switch kind {
        case .sgd:
            parts.append("momentum=\(momentum)")
            if dampening != 0 { parts.append("dampening=\(dampening)") }
            if nesterov { parts.append("nesterov") }
        case .rmsprop:
            parts.append("alpha=\(alpha) eps=\(eps)")
            if momentum != 0 { parts.append("momentum=\(momentum)") }
            if centered { parts.append("centered") }
        case .adam, .adamw:
            parts.append("betas=(\(beta1), \(beta2)) eps=\(eps)")
        }
        parts.append("weight_decay=\(weightDecay)")
        return parts.joined(separator: " ")
    }
}
