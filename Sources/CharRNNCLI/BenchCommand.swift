import ArgumentParser
import Foundation
import CharRNN
import NeuralNet
import Tensor

/// `charrnn bench`: training, evaluation and sampling throughput of the engine, measured the same
/// way as ../shared/bench/torch_charlstm.py so the two can be compared side by side.
///
/// - train: full steps (zero grads, forward, backward, global-norm clip at 5.0, Adam lr 2e-3) on
///   B streams × T steps; characters/s = B·T / median step time (after 3 warm-up steps).
/// - eval: forward only with carried state; B·T / median window time.
/// - sample: one stream, one character at a time, multinomial sampling from the softmax, on the
///   path `charrnn generate` takes (`StreamStepper`, f16 weights unless `--sample-weights` says
///   f32, bf16 or int8; `sample_weights` in the output is the format that ran).
/// The corpus is read as raw bytes, one id per distinct byte (for ASCII text such as
/// tinyshakespeare this is the same vocabulary as PyTorch's code points). The step uses the same
/// `Optimizer` (Adam) and global-norm clipping as `charrnn train`.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure training/evaluation/sampling throughput (characters per second).")

    @Option(help: "Recurrent cell: rnn, lstm or gru.") var cell: String = "lstm"
    @Option(parsing: .unconditional, help: "Hidden size H.") var hidden: Int = 512
    @Option(parsing: .unconditional, help: "Number of recurrent layers.") var layers: Int = 2
    @Option(parsing: .unconditional, help: "Embedding size E.") var embed: Int = 64
    @Option(parsing: .unconditional, help: "Streams per batch B.") var batch: Int = 50
    @Option(parsing: .unconditional, help: "Steps per window T (truncated BPTT length).") var bptt: Int = 50
    @Option(parsing: .unconditional, help: "Timed steps (after 3 warm-up steps).") var steps: Int = 20
    @Option(parsing: .unconditional, help: "Threads the model computes on.") var threads: Int = 2
    @Option(help: "Precision of training's and evaluation's matrix products: f32 or bf16 (operands rounded to bfloat16, f32 accumulation).")
    var precision: OperandPrecision = .f32
    @Option(parsing: .unconditional, help: "Characters to sample for the sampling rate (0 to skip).") var sample: Int = 500
    @Option(help: "Weight format of the sampling run, as `generate --weights`: f32, f16 (generate's default), bf16 or int8.")
    var sampleWeights: StreamStepper.WeightFormat = .f16
    @Flag(help: "Also measure the machine's FMA peak (f32, and bf16 where the CPU has it) on --threads threads, and report training/evaluation GFLOP/s as a share of the peak of the arithmetic the products run (bf16 dot products for --precision bf16 on AVX512-BF16, else f32).")
    var peak = false
    @Flag(help: "Print one JSON object.") var json = false
    @Argument(help: "Corpus file (read as bytes).") var corpus: String

    struct BenchError: Error, CustomStringConvertible {
        let description: String
    }

    func validate() throws {
        for (value, flag) in [(hidden, "--hidden"), (layers, "--layers"), (embed, "--embed"), (batch, "--batch"),
                              (bptt, "--bptt"), (steps, "--steps")] {
            try FlagCheck.atLeast(1, value, flag)
        }
        try FlagCheck.atLeast(0, sample, "--sample")
        try FlagCheck.threads(threads)
    }

    func run() throws { try CLIErrors.reporting { try measure() } }

    func measure() throws {
        guard let cellKind = CellKind(rawValue: cell) else {
            throw BenchError(description: "--cell: expected rnn, lstm or gru, got '\(cell)'")
        }
        for (name, value) in [("--hidden", hidden), ("--layers", layers), ("--embed", embed), ("--batch", batch),
                              ("--bptt", bptt), ("--steps", steps), ("--threads", threads)] where value < 1 {
            throw BenchError(description: "\(name): must be at least 1 (got \(value))")
        }
        guard let data = FileManager.default.contents(atPath: corpus) else {
            throw BenchError(description: "\(corpus): cannot read corpus file")
        }
        let bytes = [UInt8](data)
        guard bytes.count > batch * (bptt + 1) else {
            throw BenchError(description: "\(corpus): corpus too small for --batch \(batch) × --bptt \(bptt)")
        }
        var present = [Bool](repeating: false, count: 256)
        for byte in bytes { present[Int(byte)] = true }
        var idOf = [Int32](repeating: -1, count: 256)
        var vocab = 0
        for byte in 0..<256 where present[byte] { idOf[byte] = Int32(vocab); vocab += 1 }
        let ids = bytes.map { idOf[Int($0)] }

        let config = ModelConfig(vocabularySize: vocab, embeddingSize: embed, hiddenSize: hidden,
                                 layers: layers, cell: cellKind)
        let model = LanguageModel<Float>(config: config, seed: 0)
        model.reserve(maxSteps: bptt, batchSize: batch)
        model.threads = threads
        model.operands = precision
        let optimizer = try Optimizer<Float>(config: .adam(learningRate: 2e-3), layout: model.parameters.layout,
                                             clipping: GradientClipping(maxNorm: 5))
        optimizer.threads = threads

        // Streams as in torch_charlstm.py: stream b is ids[b·n ..< (b+1)·n].
        let n = (ids.count - 1) / batch
        var position = 0
        var inputs = [Int32](repeating: 0, count: bptt * batch), targets = inputs
        func nextWindow() {
            if position + bptt > n { position = 0 }
            for t in 0..<bptt {
                for b in 0..<batch {
                    inputs[t * batch + b] = ids[b * n + position + t]
                    targets[t * batch + b] = ids[b * n + position + t + 1]
                }
            }
            position += bptt
        }

        let warmup = 3
        let state = RecurrentState<Float>(config: config, batchSize: batch)
        var trainTimes: [Double] = []
        var lastLoss = 0.0
        for step in 0..<(steps + warmup) {
            nextWindow()
            let start = DispatchTime.now().uptimeNanoseconds
            model.parameters.zeroGradients()
            lastLoss = model.forward(inputs: inputs, targets: targets, batchSize: batch, state: state, training: true)
            model.backward()
            _ = optimizer.step(model.parameters)
            if step >= warmup { trainTimes.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9) }
        }
        let evalState = RecurrentState<Float>(config: config, batchSize: batch)
        var evalTimes: [Double] = []
        for step in 0..<(steps + warmup) {
            nextWindow()
            let start = DispatchTime.now().uptimeNanoseconds
            _ = model.forward(inputs: inputs, targets: targets, batchSize: batch, state: evalState, training: false)
            if step >= warmup { evalTimes.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9) }
        }
        var sampleRate: Double?, sampleFormat: StreamStepper.WeightFormat?
        if sample > 0 {
            // What `charrnn generate` runs for one sample: the one-stream stepper and TokenSampler.
            let stepper = StreamStepper(model: model, threads: threads, weightFormat: sampleWeights)
            sampleFormat = stepper.weightFormat
            var logits = [Float](repeating: 0, count: vocab)
            var sampler = TokenSampler(options: SamplingOptions(), vocabularySize: vocab)
            var rng = RNG(seed: 0)
            var token: Int32 = 0
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<sample {
                logits.withUnsafeMutableBufferPointer { stepper.step(token: token, logits: $0) }
                token = logits.withUnsafeBufferPointer { sampler.sample(logits: $0, uniform: rng.nextDouble()) }
            }
            sampleRate = Double(sample) / (Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }

        func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
        let chars = Double(batch * bptt)
        let trainRate = chars / median(trainTimes), evalRate = chars / median(evalTimes)
        // GEMM work per window as executed: forward 2·T·B·(In·G·H + H·G·H) per layer + 2·T·B·D·V
        // for the decoder, except that layer 0 reads the embedding table (no dropout here), so its
        // input projection is a V-row product; backward does twice the forward's GEMM work.
        var forwardFlops = 0.0
        for k in 0..<layers {
            let g = Double(cellKind.gateCount * hidden)
            let inputRows = k == 0 ? Double(vocab) : chars
            forwardFlops += 2 * inputRows * Double(config.inputSize(ofLayer: k)) * g + 2 * chars * Double(hidden) * g
        }
        forwardFlops += 2 * chars * Double(config.decoderInputSize * vocab)
        let trainGFLOPs = 3 * forwardFlops / median(trainTimes) * 1e-9, evalGFLOPs = forwardFlops / median(evalTimes) * 1e-9
        var peakFields: [(String, String)] = [("kernel", "\"\(KernelFeatures.kernelName(operands: precision))\""),
                                              ("precision", "\"\(precision.rawValue)\"")]
        if peak, let f32 = KernelFeatures.peakGFLOPs(threads: threads) {
            let bf16 = KernelFeatures.peakGFLOPs(bf16: true, threads: threads)
            // The share is of the peak of the arithmetic the products run: bf16 dot products for
            // --precision bf16 on the dot-product kernel, f32 FMAs otherwise (the emulation included).
            let dot = precision == .bf16 && KernelFeatures.bf16DotProducts
            let reference = dot ? bf16 ?? f32 : f32
            peakFields += [("peak_f32_gflops", String(format: "%.1f", f32)),
                           ("peak_bf16_gflops", bf16.map { String(format: "%.1f", $0) } ?? "null"),
                           ("peak_share_of", dot ? "\"bf16\"" : "\"f32\""),
                           ("train_peak_share", String(format: "%.3f", trainGFLOPs / reference)),
                           ("eval_peak_share", String(format: "%.3f", evalGFLOPs / reference))]
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let result: [(String, String)] = [
            ("impl", "\"charrnn\""), ("cell", "\"\(cell)\""), ("hidden", "\(hidden)"), ("layers", "\(layers)"),
            ("embed", "\(embed)"), ("batch", "\(batch)"), ("seq", "\(bptt)"), ("threads", "\(threads)"),
            ("vocab", "\(vocab)"), ("params", "\(model.parameters.values.count)"),
            ("train_chars_per_s", "\(Int(trainRate.rounded()))"), ("eval_chars_per_s", "\(Int(evalRate.rounded()))"),
            ("sample_chars_per_s", sampleRate.map { "\(Int($0.rounded()))" } ?? "null"),
            ("sample_weights", sampleFormat.map { "\"\($0.rawValue)\"" } ?? "null"),
            ("peak_rss_mb", "\(usage.ru_maxrss / 1024)"),
            ("train_gflops", String(format: "%.1f", trainGFLOPs)),
            ("eval_gflops", String(format: "%.1f", evalGFLOPs)),
            ("last_loss", String(format: "%.4f", lastLoss)),
        ] + peakFields
        if json {
            try StandardOutput.print("{" + result.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
        } else {
            try StandardOutput.print(result.map { "\($0.0)=\($0.1.replacingOccurrences(of: "\"", with: ""))" }.joined(separator: " "))
        }
    }
}
