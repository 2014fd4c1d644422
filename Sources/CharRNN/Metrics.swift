import Foundation

/// One line of a run's `metrics.jsonl`: a logged training step, an evaluation, or a resume.
///
/// This is the contract between the trainer (writer) and reports (readers). Losses are mean
/// cross-entropy in nats per unit; times are seconds of training since the run began, counted
/// across resumes.
public struct MetricsRecord: Codable, Sendable, Equatable {
    /// What the record describes.
    public enum Kind: String, Codable, Sendable {
        /// A training step (loss of that window).
        case train
        /// An evaluation over a whole split.
        case eval
        /// A run continued from its checkpoint at `step`; `changes` lists the settings it changed.
        case resume
        /// A gradient-flow measurement during training (`--track-gradient-flow`): per-layer decay
        /// factors in `decayFactors` (and `cellDecayFactors` for LSTM).
        case gradientFlow = "gradient_flow"
    }

    public var kind: Kind
    /// Optimizer steps completed when the record was written (1-based for train records).
    public var step: Int
    /// Epoch (0-based) the step belongs to.
    public var epoch: Int
    /// Seconds of training since the run began (excluding time spent stopped between resumes).
    public var time: Double
    /// Mean cross-entropy, nats per unit (train and eval records; nil for resume records).
    public var loss: Double?
    /// Split evaluated (`validation` or `test`); nil for train records.
    public var split: String?
    /// Global L2 norm of the gradient before clipping (train records).
    public var gradNorm: Double?
    /// Whether clipping changed the gradient at this step (train records).
    public var clipped: Bool?
    /// Learning rate used at this step (train records).
    public var learningRate: Double?
    /// Training throughput in units per second over the last logging interval (train records).
    public var unitsPerSecond: Double?
    /// Steps skipped so far because the gradient was not finite (train records).
    public var skippedSteps: Int?
    /// Resume records: each changed setting's flag mapped to "OLD -> NEW".
    public var changes: [String: String]?
    /// Gradient-flow records: per layer (bottom first) the fitted per-step decay factor of
    /// ‖∂L_T/∂h_{T−k}‖ (`GradientFlowResult.Layer.decayFactor`; null when it could not be fitted).
    public var decayFactors: [Double?]?
    /// Gradient-flow records of an LSTM: the same for the cell state c.
    public var cellDecayFactors: [Double?]?
    /// Gradient-flow records: T of the measurement (steps per window) and the windows averaged.
    public var flowLength: Int?, flowWindows: Int?

    public init(kind: Kind, step: Int, epoch: Int, time: Double, loss: Double?, split: String? = nil,
                gradNorm: Double? = nil, clipped: Bool? = nil, learningRate: Double? = nil,
                unitsPerSecond: Double? = nil, skippedSteps: Int? = nil, changes: [String: String]? = nil,
                decayFactors: [Double?]? = nil, cellDecayFactors: [Double?]? = nil,
                flowLength: Int? = nil, flowWindows: Int? = nil) {
        self.kind = kind; self.step = step; self.epoch = epoch; self.time = time; self.loss = loss
        self.split = split; self.gradNorm = gradNorm; self.clipped = clipped
        self.learningRate = learningRate; self.unitsPerSecond = unitsPerSecond
        self.skippedSteps = skippedSteps
        self.changes = changes
        self.decayFactors = decayFactors; self.cellDecayFactors = cellDecayFactors
        self.flowLength = flowLength; self.flowWindows = flowWindows
    }

    /// Bits per unit: `loss / ln 2`.
    public var bitsPerUnit: Double? { loss.map { $0 / log(2) } }

    enum CodingKeys: String, CodingKey {
        case kind, step, epoch, time, loss, split, clipped, changes
        case gradNorm = "grad_norm"
        case learningRate = "lr"
        case unitsPerSecond = "units_per_s"
        case skippedSteps = "skipped_steps"
        case decayFactors = "decay_factors", cellDecayFactors = "cell_decay_factors"
        case flowLength = "flow_length", flowWindows = "flow_windows"
    }

    /// The record as one line of JSON (no trailing newline), keys sorted.
    public func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Parses a whole `metrics.jsonl` file's contents; blank lines are ignored.
    /// Throws naming the 1-based line number of the first malformed line.
    public static func parseLines(_ text: String) throws -> [MetricsRecord] {
        let decoder = JSONDecoder()
        var records: [MetricsRecord] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            do {
                records.append(try decoder.decode(MetricsRecord.self, from: Data(trimmed.utf8)))
            } catch {
                throw MetricsError.malformedLine(index + 1)
            }
        }
        return records
    }
}

/// A problem reading metrics.
public enum MetricsError: Error, Equatable, CustomStringConvertible {
    case malformedLine(Int)

    public var description: String {
        switch self {
        case .malformedLine(let line): "line \(line) is not a valid metrics record"
        }
    }
}
