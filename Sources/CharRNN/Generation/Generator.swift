import Foundation
import NeuralNet
import Tensor
import TextCorpus

/// A problem with generation input.
public enum GenerationError: Error, Equatable, CustomStringConvertible {
    /// Prime units that are not in the model's vocabulary.
    case unknownPrimeUnits([String])
    case invalidOption(String)
    /// Stop strings that no sequence of the vocabulary's units contains.
    case unproducibleStops([String])

    public var description: String {
        switch self {
        case .unknownPrimeUnits(let units):
            let shown = units.prefix(10).map { "\"\(Self.escaped($0))\"" }.joined(separator: ", ")
            return "--prime: \(units.count) distinct unit(s) not in the model's vocabulary: \(shown)\(units.count > 10 ? ", …" : ""); use --unknown skip or --unknown unk"
        case .invalidOption(let message): return message
        case .unproducibleStops(let strings):
            let shown = strings.map { "\"\(Self.escaped($0))\"" }.joined(separator: ", ")
            return "--stop: the model's vocabulary cannot produce \(shown), so no sample would stop on it"
        }
    }

    static func escaped(_ unit: String) -> String {
        unit.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined()
    }
}

/// What to do with prime units outside the vocabulary.
public enum UnknownPrimePolicy: String, Sendable, CaseIterable {
    /// Refuse, naming the units.
    case error
    /// Leave them out of the prime.
    case skip
    /// Feed `<unk>` in their place.
    case unk
}

/// Samples text from a trained model, one unit at a time, `samples` streams as one batch.
///
/// Every stream is primed with the same text (the model reads it, carrying state), then draws
/// `length` units; the state and the RNG make the output deterministic for a seed. With no prime,
/// the model starts from a newline when the vocabulary has one (the usual start of a line), else
/// from id 1; that start is not printed. `<unk>` is never drawn: it stands for many units and
/// has no text of its own.
///
/// The one-stream stepper is made on the first one-sample call and reused (state reset) by the
/// following ones, so a generator is not thread-safe: one call at a time.
public struct Generator {
    public let model: LanguageModel<Float>
    public let vocabulary: Vocabulary
    /// How one sample's stepper stores the weights (`StreamStepper.WeightFormat`; f16 by default:
    /// the sampled distributions move by far less than sampling noise, and each step reads half the
    /// bytes). Several samples always run the model's f32 batch step.
    public var weights: StreamStepper.WeightFormat = .f16

    public init(model: LanguageModel<Float>, vocabulary: Vocabulary) {
        self.model = model; self.vocabulary = vocabulary
    }

    /// The prime as ids, applying `policy` to units outside the vocabulary.
    public func primeIDs(_ prime: String, policy: UnknownPrimePolicy) throws -> [Int32] {
        let units = try Tokenizer(vocabulary.tokenizer).units(of: prime)
        var ids: [Int32] = []
        var unknown: [String] = []
        for unit in units {
            if let id = vocabulary.knownID(of: unit), id != Vocabulary.unknownID {
                ids.append(id)
            } else {
                switch policy {
                case .error: if !unknown.contains(unit) { unknown.append(unit) }
                case .skip: continue
                case .unk: ids.append(Vocabulary.unknownID)
                }
            }
        }
        if !unknown.isEmpty { throw GenerationError.unknownPrimeUnits(unknown) }
        return ids
    }

    /// Generates `length` units per sample after `prime`, calling `emit(sample, unit)` for each
    /// unit as it is drawn (samples interleaved step by step). Returns the generated ids per sample.
    @discardableResult
    public func generate(prime: [Int32], length: Int, samples: Int, options: SamplingOptions, seed: UInt64,
                         emit: (Int, String) -> Void = { _, _ in }) throws -> [[Int32]] {
        guard length >= 0 else { throw GenerationError.invalidOption("--length must be ≥ 0, got \(length)") }
        try Self.check(samples: samples)
        var outputs = [[Int32]](repeating: [], count: samples)
        try draw(prime: prime, maxUnits: length, samples: samples, options: options, seed: seed) { sample, id in
            outputs[sample].append(id)
            emit(sample, vocabulary.unit(of: id))
            return false
        }
        return outputs
    }

    /// Generates `samples` samples after `prime`, each ending after `length` units or right after a
    /// stop string of `stop`, whichever comes first (each sample on its own).
    ///
    /// `emit(sample, bytes)` receives each sample's text as it becomes final (`StopScanner`: never
    /// past a stop string, and with `stop.strip` never a byte of it). The random draws do not depend
    /// on the stop strings (a stopped sample's draws are still made and dropped while others run),
    /// so a sample is the sample without stop strings, for the same seed, cut at its first stop.
    public func generate(prime: [Int32], length: GenerationLength, stop: StopCondition?, samples: Int,
                         options: SamplingOptions, seed: UInt64,
                         emit: (Int, ArraySlice<UInt8>) -> Void = { _, _ in }) throws -> [GeneratedSample] {
        try Self.check(samples: samples)
        let maxUnits: Int
        switch length {
        case .units(let count):
            guard count >= 0 else { throw GenerationError.invalidOption("--length must be ≥ 0, got \(count)") }
            maxUnits = count
        case .untilStop(let cap):
            guard let stop, !stop.strings.isEmpty else {
                throw GenerationError.invalidOption("--length 0 generates until a stop string: give at least one --stop")
            }
            guard cap >= 1 else { throw GenerationError.invalidOption("--max-length must be at least 1, got \(cap)") }
            maxUnits = cap
        }
        let unitBytes = engine.unitBytes(of: vocabulary)
        let none = StopStrings.none
        var scanners = [StopScanner](repeating: StopScanner(stops: stop?.strings ?? none, strip: stop?.strip ?? false),
                                     count: samples)
        var ids = [[Int32]](repeating: [], count: samples)
        try draw(prime: prime, maxUnits: maxUnits, samples: samples, options: options, seed: seed) { sample, id in
            ids[sample].append(id)
            let final = scanners[sample].append(unitBytes[Int(id)])
            if !final.isEmpty { emit(sample, final) }
            return scanners[sample].isStopped
        }
        return (0..<samples).map { sample in
            let rest = scanners[sample].finish()
            if !rest.isEmpty { emit(sample, rest) }
            let scanner = scanners[sample]
            return GeneratedSample(ids: ids[sample], text: scanner.text, stop: scanner.matched.map { scanner.stops.strings[$0] })
        }
    }

    /// Builds the one-stream stepper now (repacking the weights for `weights` and `model.threads`),
    /// so that the first one-sample call costs the sampling alone.
    public func prepare() {
        _ = engine.stepper(for: model, weights: weights)
    }

    private static func check(samples: Int) throws {
        guard samples >= 1 else { throw GenerationError.invalidOption("--samples must be at least 1, got \(samples)") }
    }

    /// The sampling loop: primes every stream, then draws up to `maxUnits` units per sample, handing
    /// each to `take(sample, id)` until it returns true for that sample (finished). A finished sample's
    /// draws are still made (and dropped) so the random stream of the others does not change; the loop
    /// ends when every sample is finished.
    private func draw(prime: [Int32], maxUnits: Int, samples: Int, options: SamplingOptions, seed: UInt64,
                      take: (Int, Int32) -> Bool) throws {
        try options.validate()
        try Self.check(samples: samples)
        let v = vocabulary.count
        let logits = AlignedBuffer<Float>(count: samples * v)
        // One sample runs on the one-stream stepper (weights repacked for one-row products, once per
        // generator); several run as a batch through the model's step.
        let stepper = samples == 1 ? engine.stepper(for: model, weights: weights) : nil
        let state = RecurrentState<Float>(config: model.config, batchSize: stepper == nil ? samples : 0)
        func advance(_ inputs: [Int32]) {
            if let stepper {
                stepper.step(token: inputs[0], logits: logits.pointer)
            } else {
                model.step(inputs: inputs, state: state, logits: logits.pointer)
            }
        }
        var rng = RNG(seed: seed)
        var sampler = TokenSampler(options: options, vocabularySize: v)
        let start = prime.isEmpty ? [vocabulary.knownID(of: "\n") ?? Int32(min(1, v - 1))] : prime
        for id in start {
            advance([Int32](repeating: id, count: samples))
        }
        var finished = [Bool](repeating: false, count: samples)
        var unfinished = samples
        var inputs = [Int32](repeating: 0, count: samples)
        for position in 0..<maxUnits {
            for sample in 0..<samples {
                if v > 1 { logits[sample * v + Int(Vocabulary.unknownID)] = -.infinity }
                let row = UnsafeBufferPointer(rebasing: logits.pointer[(sample * v)..<((sample + 1) * v)])
                let id = sampler.sample(logits: row, uniform: rng.nextDouble())
                inputs[sample] = id
                if !finished[sample] && take(sample, id) {
                    finished[sample] = true
                    unfinished -= 1
                }
            }
            if position + 1 < maxUnits && unfinished > 0 {
                advance(inputs)
            }
            if unfinished == 0 { break }
        }
    }

    /// What a generator keeps between calls: the one-stream stepper (repacking the weights costs far
    /// more than a short sample) and the bytes of every unit.
    private let engine = GeneratorEngine()
}

/// How long each sample of `Generator.generate(prime:length:stop:…)` runs at most.
public enum GenerationLength: Sendable, Equatable {
    /// `count` units (fewer when a stop string comes first).
    case units(Int)
    /// Until a stop string, but at most `maxUnits` units: a model may never produce it.
    case untilStop(maxUnits: Int)
}

/// The stop strings of a generation and whether they are kept in the output.
public struct StopCondition: Sendable, Equatable {
    public var strings: StopStrings
    /// Remove the stop string from the sample's text (default: keep it, the text ends with it).
    public var strip: Bool

    public init(strings: StopStrings, strip: Bool = false) {
        self.strings = strings; self.strip = strip
    }
}

/// One sample of `Generator.generate(prime:length:stop:…)`.
public struct GeneratedSample: Sendable, Equatable {
    /// Every unit drawn, the one that completed the stop string included.
    public var ids: [Int32]
    /// The sample's text (the prime excluded) as bytes: the units' bytes, cut after the stop
    /// string, which is removed when stripping.
    public var text: [UInt8]
    /// The stop string (as given) that ended the sample; nil when it ran to its length.
    public var stop: String?

    /// `text` decoded as UTF-8 (ill-formed bytes, possible with byte units, become U+FFFD).
    public var string: String { String(decoding: text, as: UTF8.self) }
}

/// A generator's cached stepper and unit bytes. Not thread-safe, like the stepper.
final class GeneratorEngine: @unchecked Sendable {
    private var cached: (stepper: StreamStepper, weights: StreamStepper.WeightFormat, threads: Int)?
    private var bytes: [[UInt8]]?

    /// A stepper for `model` with its state reset to zero (the start of a text).
    func stepper(for model: LanguageModel<Float>, weights: StreamStepper.WeightFormat) -> StreamStepper {
        if let cached, cached.weights == weights, cached.threads == model.threads {
            cached.stepper.reset()
            return cached.stepper
        }
        let stepper = StreamStepper(model: model, threads: model.threads, weightFormat: weights)
        cached = (stepper, weights, model.threads)
        return stepper
    }

    func unitBytes(of vocabulary: Vocabulary) -> [[UInt8]] {
        if let bytes { return bytes }
        let made = StopStrings.unitBytes(of: vocabulary)
        bytes = made
        return made
    }
}
