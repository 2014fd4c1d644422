import Foundation
import Testing
@testable import TextCorpus

/// Runs the Unicode Consortium's segmentation conformance files (Debian package unicode-data) through the
/// tokenizer with normalization off, whole and fed one scalar at a time. Skips when the files are absent.
@Suite struct UnicodeBreakTests {
    struct Case {
        let line: Int
        let scalars: [UInt32]
        let segments: [[UInt32]]
    }

    static func cases(_ path: String) -> [Case]? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        var cases: [Case] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.isEmpty { continue }
            var scalars: [UInt32] = []
            var segments: [[UInt32]] = []
            var current: [UInt32] = []
            for field in fields {
                if field == "÷" {
                    if !current.isEmpty { segments.append(current); current = [] }
                } else if field == "×" {
                    continue
                } else if let value = UInt32(field, radix: 16) {
                    scalars.append(value)
                    current.append(value)
                }
            }
            if !current.isEmpty { segments.append(current) }
            cases.append(Case(line: number + 1, scalars: scalars, segments: segments))
        }
        return cases
    }

    /// `skipping`: scalars whose cases are left out because ICU's root rules (CLDR) deliberately differ from
    /// UAX #29 there: CLDR removes U+003A COLON from MidLetter (only Swedish and Finnish keep "a:b" whole).
    func check(file: String, unit: TokenUnit, skipping: Set<UInt32> = []) throws {
        guard let cases = Self.cases(file) else { return }  // unicode-data not installed: skip
        #expect(cases.count > 500)
        let tokenizer = Tokenizer(TokenizerOptions(unit: unit, normalization: .none))
        var failures = 0
        for testCase in cases {
            // Lone surrogates cannot be written as UTF-8; the files contain none, but be safe.
            let usable = testCase.scalars.compactMap(Unicode.Scalar.init)
            guard usable.count == testCase.scalars.count, skipping.isDisjoint(with: testCase.scalars) else { continue }
            let text = String(String.UnicodeScalarView(usable))
            let whole = try tokenizer.units(of: text)
            // Fed one scalar per chunk: exercises the safe-point logic at every position.
            var sink = CollectingSink()
            let segmenter = try tokenizer.makeSegmenter()
            for scalar in usable {
                let bytes = Array(String(scalar).utf8)
                try bytes.withUnsafeBufferPointer { try segmenter.feed($0, into: &sink) }
            }
            try segmenter.finish(into: &sink)
            let got = scalars(whole), gotChunked = scalars(sink.units)
            if got != testCase.segments || gotChunked != testCase.segments {
                failures += 1
                if failures <= 5 {
                    Issue.record("\(file):\(testCase.line): expected \(testCase.segments), got \(got), chunked \(gotChunked)")
                }
            }
        }
        #expect(failures == 0)
    }

    @Test func graphemeBreakTest() throws {
        try check(file: "/usr/share/unicode/auxiliary/GraphemeBreakTest.txt", unit: .grapheme)
    }

    @Test func wordBreakTest() throws {
        try check(file: "/usr/share/unicode/auxiliary/WordBreakTest.txt", unit: .word, skipping: [0x3A])
    }
}
