import Foundation
import TestSupport
@testable import TextCorpus

/// Small helpers for tests that write corpus files.
enum Fixtures {
    static func write(_ bytes: [UInt8], to url: URL) throws {
        try Data(bytes).write(to: url)
    }

    static func write(_ text: String, to url: URL) throws {
        try write(Array(text.utf8), to: url)
    }

    /// gzip -c -n of `bytes` (one member), via the gzip tool.
    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        try TestProcess.gzip(bytes)
    }

    static func gzip(_ text: String) throws -> [UInt8] { try gzip(Array(text.utf8)) }

    /// Ids of `paths` loaded with a vocabulary of every unit (no splits), as units, for comparisons.
    static func units(_ paths: [String], options: TokenizerOptions = TokenizerOptions(),
                      reader: CorpusReader.Options = CorpusReader.Options()) throws -> [[UInt32]] {
        let corpus = try TokenCorpus.load(paths: paths, tokenizer: options, validationFraction: 0, testFraction: 0, reader: reader)
        return corpus.ids.map { corpus.vocabulary.unit(of: $0).unicodeScalars.map(\.value) }
    }
}

/// A multilingual sample with every hard case of the tokenizer.
let sampleText = """
Nel mezzo del cammin di nostra vita — perché così è: città, più, però.
Combining: perche\u{301} citta\u{300} piu\u{300}
בְּרֵאשִׁית בָּרָא אֱלֹהִים
我爱北京天安门。子曰：学而时习之。
नमस्ते दुनिया, किताब क्षत्रिय
👨‍👩‍👧‍👦 🏳️‍🌈 🇮🇹🇯🇵 👍🏽 done.\r\nCRLF line\r\n
"""
