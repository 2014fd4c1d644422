import Foundation
import NeuralNet
import Tensor
import TextCorpus

/// Measures how far back gradients reach in a `LanguageModel`: for W consecutive windows of T units
/// (state carried from window to window, no dropout), backpropagates the loss of the **last step
/// only** and records ‖∂L_T/∂h_{T−k}‖ for k = 0…T−1 in every layer (and ‖∂L_T/∂c_{T−k}‖ for LSTM),
/// then aggregates the windows with ``GradientFlowResult/Layer/init(layer:windowNorms:windowCellNorms:)``
/// (geometric mean and maximum per k, fitted decay factor, vanish distance).
///
/// Norms are over the B×H block of one step (all B streams together). The model's parameter
/// gradients are used as scratch and left zeroed; its weights are not changed.
public enum GradientFlowMeasurement {
    /// The measurement on `ids`.
    /// - Parameters:
    ///   - length: T, steps per window (distances 0…T−1 are measured).
    ///   - windows: W; fewer are used when `ids` holds fewer full windows (see the result's `windows`).
    ///   - batchSize: B streams per window (the text is cut into B contiguous streams).
    ///   - initialization: description stored in the result (`init` in gradient-flow.json).
    /// - Throws: ``DiagnosticsError`` when T, W or B is below 1 or `ids` is shorter than B·T + 1 units.
    public static func measure<IDs: RandomAccessCollection>(model: LanguageModel<Float>, ids: IDs, length: Int, windows: Int,
                               batchSize: Int = 1, initialization: String) throws -> GradientFlowResult where IDs.Element == Int32 {
        guard length >= 1 else { throw DiagnosticsError.invalidOption("--length", "must be at least 1 (got \(length))") }
        guard windows >= 1 else { throw DiagnosticsError.invalidOption("--windows", "must be at least 1 (got \(windows))") }
        guard batchSize >= 1 else { throw DiagnosticsError.invalidOption("--batch", "must be at least 1 (got \(batchSize))") }
        // Overflow-safe: a window beyond Int is certainly longer than the text.
        let needed = MemorySize.product(batchSize, length).flatMap { $0 < Int.max ? $0 + 1 : nil } ?? Int.max
        guard ids.count >= needed else {
            throw DiagnosticsError.textTooShort("--length \(length)\(batchSize > 1 ? " with --batch \(batchSize)" : "")",
                                                needed: needed, available: ids.count)
        }
        let stream = try BatchStream(ids: ids, batchSize: batchSize, sequenceLength: length)
        try stream.checkMemory(model: model.config, subject: "the measurement", stepsFlag: "--length")
        let fullWindows = stream.streamLength / length
        let count = min(windows, fullWindows)
        let config = model.config
        let state = RecurrentState<Float>(config: config, batchSize: batchSize)
        let recorder = GradientFlowRecorder()
        var hidden = [[[Double]]](repeating: [], count: config.layers)   // [layer][window][k]
        var cell = [[[Double]]](repeating: [], count: config.layers)
        for window in 0..<count {
            let batch = stream.batch(window: window)
            model.forward(inputs: batch.inputs, targets: batch.targets, batchSize: batchSize, state: state, training: false)
            model.parameters.zeroGradients()
            model.backward(scope: .lastStep, recorder: recorder)
            for layer in 0..<config.layers {
                hidden[layer].append(recorder.hiddenNorms[layer].reversed())     // index k = T − 1 − t
                if config.cell == .lstm { cell[layer].append(recorder.cellNorms[layer].reversed()) }
            }
        }
        model.parameters.zeroGradients()
        let layers = (0..<config.layers).map { layer in
            GradientFlowResult.Layer(layer: layer, windowNorms: hidden[layer],
                                     windowCellNorms: config.cell == .lstm ? cell[layer] : nil)
        }
        return GradientFlowResult(cell: config.cell.rawValue, hidden: config.hiddenSize, length: length,
                                  windows: count, initialization: initialization, layers: layers)
    }

    /// Multiplies every layer's `weight_hh` by `scale` (to show vanishing below and exploding above
    /// the edge of stability).
    public static func scaleRecurrentWeights(of model: LanguageModel<Float>, by scale: Double) {
        for layer in model.layers {
            let weights = model.parameters.values(layer.weightHH)
            for i in weights.indices { weights[i] *= Float(scale) }
        }
    }

    /// A short description of an initialization for `init` in gradient-flow.json, e.g.
    /// `default`, `orthogonal, forget bias 1, weight_hh ×1.5`.
    public static func describe(_ options: InitializationOptions, recurrentScale: Double? = nil) -> String {
        var parts = [options.orthogonalRecurrent ? "orthogonal" : "default"]
        if let bias = options.forgetGateBias { parts.append("forget bias \(format(bias))") }
        if let recurrentScale, recurrentScale != 1 { parts.append("weight_hh ×\(format(recurrentScale))") }
        return parts.joined(separator: ", ")
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : String(value)
    }

    /// A plain-text summary: per layer the decay factor, vanish distance and the norms at a few
    /// distances (geometric mean and maximum over windows).
    public static func table(_ result: GradientFlowResult) -> String {
        var lines = ["gradient flow: \(result.cell), H=\(result.hidden), T=\(result.length), \(result.windows) window\(result.windows == 1 ? "" : "s"), init \(result.initialization)"]
        let ks = distances(upTo: result.length)
        for layer in result.layers {
            let factor = layer.decayFactor.map { String(format: "%.4f", $0) } ?? "-"
            let vanish = layer.vanishDistance.map { "falls below 1e-6 of its k=0 value at k = \($0)" }
                ?? "stays above 1e-6 of its k=0 value up to k = \(result.length - 1)"
            lines.append("layer \(layer.layer): decay factor \(factor) per step; the norm \(vanish)")
            lines.append("  " + pad("k", 6) + pad("‖∂L_T/∂h‖ gmean", 17) + pad("max", 12)
                         + (layer.cellNorms != nil ? pad("‖∂L_T/∂c‖ gmean", 16) : ""))
            for k in ks {
                var line = "  " + pad("\(k)", 6) + pad(sci(layer.norms[k]), 17) + pad(sci(layer.maxNorms[k]), 12)
                if let c = layer.cellNorms { line += pad(sci(c[k]), 16) }
                lines.append(line)
            }
        }
        return lines.joined(separator: "\n")
    }

    /// 0, 1, 2, 5, 10, 20, 50, … below `length`, and `length − 1`.
    static func distances(upTo length: Int) -> [Int] {
        var ks: [Int] = []
        var decade = 1
        while decade < length {
            for m in [1, 2, 5] where m * decade < length { ks.append(m * decade) }
            decade *= 10
        }
        ks = [0] + ks
        if let last = ks.last, last != length - 1 { ks.append(length - 1) }
        return ks
    }

    private static func sci(_ value: Double) -> String { String(format: "%.3e", value) }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
