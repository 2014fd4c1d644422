import ArgumentParser
import TextCorpus

extension TokenUnit: ExpressibleByArgument {}
extension NormalizationForm: ExpressibleByArgument {}

/// Tokenizer options shared by every command that reads text (`--unit`, `--normalize`, `--case-fold`).
struct TokenizerArguments: ParsableArguments {
    @Option(name: .customLong("unit"), help: "Unit of text: grapheme (default), codepoint, byte or word.")
    var unitOption: TokenUnit?

    @Option(name: .customLong("normalize"), help: "Unicode normalization: nfc (default), nfkc or none.")
    var normalizationOption: NormalizationForm?

    @Flag(help: "Apply full Unicode case folding.")
    var caseFold = false

    var unit: TokenUnit { unitOption ?? .grapheme }
    var normalization: NormalizationForm { normalizationOption ?? .nfc }

    var options: TokenizerOptions { options(over: TokenizerOptions()) }

    /// `base` with the options given on the command line applied.
    func options(over base: TokenizerOptions) -> TokenizerOptions {
        TokenizerOptions(unit: unitOption ?? base.unit, normalization: normalizationOption ?? base.normalization,
                         caseFold: caseFold || base.caseFold)
    }
}

/// Corpus reading and splitting options shared by commands that load a corpus.
struct CorpusLoadArguments: ParsableArguments {
    @Flag(help: "Replace ill-formed UTF-8 with U+FFFD (and report the count) instead of failing.")
    var replaceInvalid = false

    @Option(name: [.customLong("val-fraction"), .customLong("validation-fraction")],
            help: "Fraction of units for the validation split (taken after the training split; default 0.05).")
    var validationFractionOption: Double?

    @Option(name: .customLong("test-fraction"), help: "Fraction of units for the test split (the end of the corpus; default 0.05).")
    var testFractionOption: Double?

    @Option(help: "Largest vocabulary size, <unk> included (most frequent units in the training split).")
    var maxVocab: Int?

    @Option(name: .customLong("min-count"), help: "Units seen fewer times than this in the training split become <unk> (default 1).")
    var minCountOption: Int?

    var validationFraction: Double { validationFractionOption ?? 0.05 }
    var testFraction: Double { testFractionOption ?? 0.05 }
    var minCount: Int { minCountOption ?? 1 }

    func validate() throws {
        if let maxVocab, maxVocab < 2 { throw ValidationError("--max-vocab must be at least 2, got \(maxVocab)") }
        if minCount < 1 { throw ValidationError("--min-count must be at least 1, got \(minCount)") }
    }

    var readerOptions: CorpusReader.Options { CorpusReader.Options(replaceInvalid: replaceInvalid) }

    /// Loads `paths` with these options.
    func load(_ paths: [String], tokenizer: TokenizerOptions) throws -> TokenCorpus {
        try TokenCorpus.load(paths: paths, tokenizer: tokenizer, validationFraction: validationFraction,
                             testFraction: testFraction, maxVocab: maxVocab, minCount: minCount, reader: readerOptions)
    }
}
