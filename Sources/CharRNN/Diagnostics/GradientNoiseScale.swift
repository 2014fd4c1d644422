import Foundation
import NeuralNet
import Tensor
import TextCorpus

/// The gradient noise scale of a model on a text: the batch size (in streams of T units) up to which a
/// larger batch still cuts the number of optimizer steps almost in proportion, and beyond which it
/// mostly costs more computation per step (McCandlish, Kaplan, Amodei et al. 2018, "An Empirical Model
/// of Large-Batch Training": steps ≈ S_min · (1 + B_noise / B), data ≈ E_min · (1 + B / B_noise)).
///
/// Estimated as in that paper's appendix from gradient norms at two batch sizes: the window's B
/// streams are cut into B / b groups of b streams, each group's gradient G_b (of its mean loss) is
/// computed on its own and their mean is the whole batch's gradient G_B. With
/// E|G_b|² = |G|² + tr Σ / b:
///
///     |G|² ≈ (B·|G_B|² − b·mean|G_b|²) / (B − b)
///     tr Σ ≈ (mean|G_b|² − |G_B|²) / (1/b − 1/B)
///     B_noise = tr Σ / |G|²
///
/// Both estimates are averaged over the windows before the ratio is taken (the ratio of noisy means,
/// as the paper advises). State is carried from window to window per group, without dropout; the
/// weights are not changed and the gradients are left zeroed.
public enum GradientNoiseScale {
    /// What one measurement found.
    public struct Result: Codable, Sendable, Equatable {
        /// T, streams per window B, streams per group b, windows measured.
        public var length: Int, streams: Int, groupStreams: Int, windows: Int
        /// Mean over windows of mean|G_b|² and of |G_B|² (squared L2 norms of the flat gradient).
        public var smallBatchSquaredNorm: Double, largeBatchSquaredNorm: Double
        /// Estimates of |G|² (true gradient) and tr Σ (per-stream gradient variance).
        public var trueGradientSquaredNorm: Double, gradientVariance: Double
        /// B_noise in streams of `length` units; nil when |G|² is not positive (noise dominates the
        /// estimate: measure more windows or larger batches).
        public var noiseScaleStreams: Double?
        /// Mean loss of the measured windows, nats per unit.
        public var meanLoss: Double

        /// B_noise in units (streams × T).
        public var noiseScaleUnits: Double? { noiseScaleStreams.map { $0 * Double(length) } }

        enum CodingKeys: String, CodingKey {
            case length, streams, windows
            case groupStreams = "group_streams"
            case smallBatchSquaredNorm = "small_batch_squared_norm", largeBatchSquaredNorm = "large_batch_squared_norm"
            case trueGradientSquaredNorm = "true_gradient_squared_norm", gradientVariance = "gradient_variance"
            case noiseScaleStreams = "noise_scale_streams", meanLoss = "mean_loss"
        }
    }

    /// The two estimates from the window means (see the type's formulas); `b < B`.
    public static func estimate(smallBatchSquaredNorm small: Double, largeBatchSquaredNorm large: Double,
                                groupStreams b: Int, streams B: Int) -> (trueGradient: Double, variance: Double) {
        let bs = Double(b), bb = Double(B)
        return ((bb * large - bs * small) / (bb - bs), (small - large) / (1 / bs - 1 / bb))
    }

    /// Measures on `ids`.
    /// - Parameters:
    ///   - length: T, units per window.
    ///   - windows: W consecutive windows (fewer when the text holds fewer).
    ///   - streams: B, streams per window (the text is cut into B contiguous streams, as in training).
    ///   - groupStreams: b, streams per small batch; must divide B and be smaller than it.
    /// - Throws: ``DiagnosticsError`` naming the option when a size is out of range or the text is short.
    public static func measure<IDs: RandomAccessCollection>(model: LanguageModel<Float>, ids: IDs, length: Int, windows: Int,
                                                            streams: Int, groupStreams: Int) throws -> Result where IDs.Element == Int32 {
        guard length >= 1 else { throw DiagnosticsError.invalidOption("--length", "must be at least 1 (got \(length))") }
        guard windows >= 1 else { throw DiagnosticsError.invalidOption("--windows", "must be at least 1 (got \(windows))") }
        guard streams >= 2 else { throw DiagnosticsError.invalidOption("--batch", "must be at least 2 to compare batch sizes (got \(streams))") }
        guard groupStreams >= 1, groupStreams < streams, streams % groupStreams == 0 else {
            throw DiagnosticsError.invalidOption("--noise-group", "must divide --batch \(streams) and be smaller (got \(groupStreams))")
        }
        let needed = MemorySize.product(streams, length).flatMap { $0 < Int.max ? $0 + 1 : nil } ?? Int.max
        guard ids.count >= needed else {
            throw DiagnosticsError.textTooShort("--length \(length) with --batch \(streams)", needed: needed, available: ids.count)
        }
        let stream = try BatchStream(ids: ids, batchSize: streams, sequenceLength: length)
        try stream.checkMemory(model: model.config, subject: "the measurement", stepsFlag: "--length")
        let count = min(windows, stream.streamLength / length)
        let groups = streams / groupStreams
        let states = (0..<groups).map { _ in RecurrentState<Float>(config: model.config, batchSize: groupStreams) }
        let parameterCount = model.parameters.layout.totalCount
        var sum = [Double](repeating: 0, count: parameterCount)
        var smallTotal = 0.0, largeTotal = 0.0, lossTotal = 0.0
        var inputs = [Int32](repeating: 0, count: length * groupStreams), targets = inputs
        for window in 0..<count {
            let batch = stream.batch(window: window)
            let steps = batch.steps
            if inputs.count != steps * groupStreams {
                inputs = [Int32](repeating: 0, count: steps * groupStreams); targets = inputs
            }
            for i in sum.indices { sum[i] = 0 }
            var small = 0.0
            for group in 0..<groups {
                for t in 0..<steps {
                    for s in 0..<groupStreams {
                        inputs[t * groupStreams + s] = batch.inputs[t * streams + group * groupStreams + s]
                        targets[t * groupStreams + s] = batch.targets[t * streams + group * groupStreams + s]
                    }
                }
                model.parameters.zeroGradients()
                lossTotal += model.forward(inputs: inputs, targets: targets, batchSize: groupStreams,
                                           state: states[group], training: false) / Double(groups)
                _ = model.backward()
                let gradient = model.parameters.gradients.pointer
                var squared = 0.0
                for i in 0..<parameterCount {
                    let g = Double(gradient[i])
                    squared += g * g
                    sum[i] += g
                }
                small += squared / Double(groups)
            }
            var large = 0.0
            for value in sum { let g = value / Double(groups); large += g * g }
            smallTotal += small
            largeTotal += large
        }
        model.parameters.zeroGradients()
        let small = smallTotal / Double(count), large = largeTotal / Double(count)
        let (trueGradient, variance) = estimate(smallBatchSquaredNorm: small, largeBatchSquaredNorm: large,
                                                groupStreams: groupStreams, streams: streams)
        return Result(length: length, streams: streams, groupStreams: groupStreams, windows: count,
                      smallBatchSquaredNorm: small, largeBatchSquaredNorm: large,
                      trueGradientSquaredNorm: trueGradient, gradientVariance: variance,
                      noiseScaleStreams: trueGradient > 0 ? variance / trueGradient : nil,
                      meanLoss: lossTotal / Double(count))
    }

    /// A few lines for the terminal.
    public static func table(_ result: Result) -> String {
        func f(_ x: Double) -> String { String(format: "%.4g", x) }
        var lines = [
            "gradient noise scale: \(result.windows) window(s) of \(result.length) units, \(result.streams) streams in groups of \(result.groupStreams)",
            "mean loss \(String(format: "%.4f", result.meanLoss)) nats/unit",
            "mean |G_b|² (b = \(result.groupStreams)) \(f(result.smallBatchSquaredNorm)), |G_B|² (B = \(result.streams)) \(f(result.largeBatchSquaredNorm))",
            "estimated |G|² \(f(result.trueGradientSquaredNorm)), tr Σ \(f(result.gradientVariance))",
        ]
        if let streams = result.noiseScaleStreams, let units = result.noiseScaleUnits {
            lines.append("B_noise ≈ \(String(format: "%.1f", streams)) streams (\(String(format: "%.0f", units)) units per step): "
                         + "up to about this batch a larger batch saves steps nearly in proportion; at B = B_noise a run needs 2× the fewest possible steps and 2× the least data")
        } else {
            lines.append("B_noise: not estimated (|G|² ≤ 0: the noise dominates; measure more windows or a larger --batch)")
        }
        return lines.joined(separator: "\n")
    }
}
