import ArgumentParser
import Foundation
import Tensor
import TextCorpus

extension TokenUnit: ExpressibleByArgument {}
extension NormalizationForm: ExpressibleByArgument {}
extension OperandPrecision: ExpressibleByArgument {}

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
///
/// The split is either cut by fractions (the validation split after the training split, the test split at the
/// end) or given as files: with `--valid-file` / `--test-file` the positional paths are the training split and
/// the matching fraction is not applied (giving both for one split is a usage error).
struct CorpusLoadArguments: ParsableArguments {
    @Flag(help: "Replace ill-formed UTF-8 with U+FFFD (and report the count) instead of failing.")
    var replaceInvalid = false

    @Option(name: [.customLong("val-fraction"), .customLong("validation-fraction")],
            parsing: .unconditional, help: "Fraction of units for the validation split (taken after the training split; default 0.05, 0 with --valid-file).")
    var validationFractionOption: Double?

    @Option(name: .customLong("test-fraction"),
            parsing: .unconditional, help: "Fraction of units for the test split (the end of the corpus; default 0.05, 0 with --test-file).")
    var testFractionOption: Double?

    @Option(name: .customLong("valid-file"),
            help: ArgumentHelp("The validation split as published (repeatable; a file, directory, zip or ARCHIVE:MEMBER); the positional paths are then the training split.",
                               valueName: "path"))
    var validationFiles: [String] = []

    @Option(name: .customLong("test-file"),
            help: ArgumentHelp("The test split as published (repeatable; a file, directory, zip or ARCHIVE:MEMBER).",
                               valueName: "path"))
    var testFiles: [String] = []

    @Option(parsing: .unconditional, help: "Largest vocabulary size, <unk> included (most frequent units in the training split).")
    var maxVocab: Int?

    @Option(name: .customLong("min-count"), parsing: .unconditional, help: "Units seen fewer times than this in the training split become <unk> (default 1).")
    var minCountOption: Int?

    @OptionGroup var cacheOptions: TokenCacheArguments

    var minCount: Int { minCountOption ?? 1 }

    /// The token cache to load through (`--token-cache`, see `TokenCacheArguments`).
    var tokenCache: TokenCache? { cacheOptions.tokenCache }

    /// The validation fraction applied: 0 when the validation split is given as files.
    var validationFraction: Double { validationFiles.isEmpty ? (validationFractionOption ?? 0.05) : 0 }
    /// The test fraction applied: 0 when the test split is given as files.
    var testFraction: Double { testFiles.isEmpty ? (testFractionOption ?? 0.05) : 0 }

    func validate() throws {
        try FlagCheck.atLeast(2, maxVocab, "--max-vocab")
        try FlagCheck.atLeast(1, minCount, "--min-count")
        try FlagCheck.fraction(validationFractionOption, "--val-fraction")
        try FlagCheck.fraction(testFractionOption, "--test-fraction")
        if validationFractionOption != nil && !validationFiles.isEmpty {
            throw ValidationError("--val-fraction and --valid-file both set the validation split: give one of them")
        }
        if testFractionOption != nil && !testFiles.isEmpty {
            throw ValidationError("--test-fraction and --test-file both set the test split: give one of them")
        }
    }

    var readerOptions: CorpusReader.Options { CorpusReader.Options(replaceInvalid: replaceInvalid) }

    /// Loads `paths` (and the split files) with these options.
    func load(_ paths: [String], tokenizer: TokenizerOptions) throws -> TokenCorpus {
        try TokenCorpus.load(paths: paths, tokenizer: tokenizer, validationFraction: validationFraction,
                             testFraction: testFraction, validationFiles: validationFiles, testFiles: testFiles,
                             maxVocab: maxVocab, minCount: minCount, reader: readerOptions, cache: tokenCache)
    }
}
