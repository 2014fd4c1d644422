import Foundation
import NeuralNet

/// `--track-gradient-flow`: how the reach of gradients changes while a model trains.
extension Trainer {
    /// Validation windows each tracked measurement averages (one stream each).
    public static let gradientFlowWindows = 4

    /// When `trackGradientFlow` is on: measures the gradient flow (``GradientFlowMeasurement``) on
    /// the first ``gradientFlowWindows`` windows of T = `bptt` units of the validation split (one
    /// stream, zero initial state, no dropout; shorter windows when the split is shorter) and
    /// appends a `gradient_flow` record with each layer's decay factor.
    ///
    /// Cost: 4 forward + backward passes over T units of one stream, about 4/B of a training
    /// step's arithmetic (single-stream windows run slower per unit than B-stream ones).
    ///
    /// It leaves training as it was: its own zero state (not the carried one), `training: false`
    /// (the dropout generator is not drawn from), the weights unchanged and the parameter gradients
    /// zeroed (the next step zeroes them anyway), so a run with tracking has the same losses, bit
    /// for bit, as one without.
    func recordGradientFlow(epoch: Int, elapsed: Double, log: MetricsLog) throws {
        guard training.trackGradientFlow == true else { return }
        let ids = corpus.validation
        let length = min(training.bptt, ids.count - 1)
        guard length >= 1 else { return }
        let result = try GradientFlowMeasurement.measure(model: model, ids: ids, length: length,
                                                         windows: Self.gradientFlowWindows, batchSize: 1,
                                                         initialization: "step \(state.step)")
        func finite(_ value: Double?) -> Double? { value.flatMap { $0.isFinite ? $0 : nil } }
        let cellFactors: [Double?]? = model.config.cell == .lstm
            ? result.layers.map { finite($0.cellNorms.flatMap(GradientFlowFit.decayFactor)) } : nil
        try log.append(MetricsRecord(kind: .gradientFlow, step: state.step, epoch: epoch, time: elapsed, loss: nil,
                                     decayFactors: result.layers.map { finite($0.decayFactor) },
                                     cellDecayFactors: cellFactors, flowLength: length, flowWindows: result.windows))
    }
}
