import Foundation
import NeuralNet
import Tensor
import TextCorpus

/// A problem with generation input.
public enum GenerationError: Error, Equatable, CustomStringConvertible {
    /// Prime units that are not in the model's vocabulary.
    case unknownPrimeUnits([String])
    case invalidOption(String)

    public var description: String {
        switch self {
        case .unknownPrimeUnits(let units):
            let shown = units.prefix(10).map { "\"\(Self.escaped($0))\"" }.joined(separator: ", ")
            return "--prime: \(units.count) distinct unit(s) not in the model's vocabulary: \(shown)\(units.count > 10 ? ", …" : ""); use --unknown skip or --unknown unk"
        case .invalidOption(let message): return message
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
        try options.validate()
        guard length >= 0 else { throw GenerationError.invalidOption("--length must be ≥ 0, got \(length)") }
        guard samples >= 1 else { throw GenerationError.invalidOption("--samples must be at least 1, got \(samples)") }
        let v = vocabulary.count
        let logits = AlignedBuffer<Float>(count: samples * v)
        // One sample runs on the one-stream stepper (weights repacked for one-row products);
        // several run as a batch through the model's step.
        let stepper = samples == 1 ? StreamStepper(model: model, threads: model.threads, weightFormat: weights) : nil
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
        var outputs = [[Int32]](repeating: [], count: samples)
        var inputs = [Int32](repeating: 0, count: samples)
        for position in 0..<length {
            for sample in 0..<samples {
                if v > 1 { logits[sample * v + Int(Vocabulary.unknownID)] = -.infinity }
                let row = UnsafeBufferPointer(rebasing: logits.pointer[(sample * v)..<((sample + 1) * v)])
                let id = sampler.sample(logits: row, uniform: rng.nextDouble())
                inputs[sample] = id
                outputs[sample].append(id)
                emit(sample, vocabulary.unit(of: id))
            }
            if position + 1 < length {
                advance(inputs)
            }
        }
        return outputs
    }
}
