import Foundation
import Testing
@testable import CharRNN
import NeuralNet
import Tensor
import TextCorpus

/// `StopStrings`, `StopScanner` and `Generator.generate(prime:length:stop:…)`.
@Suite struct StopStringTests {
    static func stops(_ strings: [String], _ tokenizer: TokenizerOptions = TokenizerOptions()) throws -> StopStrings {
        try StopStrings(strings, tokenizer: tokenizer)
    }

    /// Feeds `units` one by one; returns the scanner and everything it released, per unit and in total.
    static func scan(_ units: [String], stops: StopStrings, strip: Bool) -> (StopScanner, [String], String) {
        var scanner = StopScanner(stops: stops, strip: strip)
        var pieces: [String] = []
        for unit in units where !scanner.isStopped {
            pieces.append(String(decoding: scanner.append(Array(unit.utf8)), as: UTF8.self))
        }
        let rest = String(decoding: scanner.finish(), as: UTF8.self)
        return (scanner, pieces, pieces.joined() + rest)
    }

    @Test func aStopStringSpanningUnitsEndsTheTextRightAfterIt() throws {
        let stops = try Self.stops(["abc"])
        let units = ["x", "a", "b", "c", "abc", "y"]
        let (kept, keptPieces, keptAll) = Self.scan(units, stops: stops, strip: false)
        #expect(String(decoding: kept.text, as: UTF8.self) == "xabc")
        #expect(kept.matched == 0)
        #expect(keptPieces == ["x", "a", "b", "c"], "keeping the stop string, every byte is final at once")
        #expect(keptAll == "xabc")

        let (stripped, pieces, all) = Self.scan(units, stops: stops, strip: true)
        #expect(String(decoding: stripped.text, as: UTF8.self) == "x")
        #expect(pieces == ["x", "", "", ""], "a possible start of the stop string is held back")
        #expect(all == "x")
    }

    @Test func aUnitHoldingMoreThanTheStopStringIsCutAndTheLongestStopAtOneEndWins() throws {
        let (inside, _, insideAll) = Self.scan(["zabq", "r"], stops: try Self.stops(["ab"]), strip: false)
        #expect(String(decoding: inside.text, as: UTF8.self) == "zab")
        #expect(insideAll == "zab")
        // "bc" and "abc" both end at the same byte: the longer one is the match (and is stripped whole).
        let (both, _, bothAll) = Self.scan(["xab", "cd"], stops: try Self.stops(["bc", "abc"]), strip: true)
        #expect(both.matched == 1)
        #expect(bothAll == "x")
        // The earliest end wins over a longer string ending later.
        let (early, _, _) = Self.scan(["xabcd"], stops: try Self.stops(["abcd", "b"]), strip: false)
        #expect(early.matched == 1)
        #expect(String(decoding: early.text, as: UTF8.self) == "xab")
    }

    @Test func strippingHoldsBackOnlyWhatCouldStillBecomeAStop() throws {
        let stops = try Self.stops(["\n\n"])
        var scanner = StopScanner(stops: stops, strip: true)
        #expect(Array(scanner.append(Array("hello".utf8))) == Array("hello".utf8))
        #expect(scanner.append([10]).isEmpty)
        #expect(Array(scanner.append(Array("x".utf8))) == Array("\nx".utf8))
        #expect(scanner.append([10]).isEmpty)
        #expect(scanner.append([10]).isEmpty)
        #expect(scanner.isStopped)
        #expect(String(decoding: scanner.text, as: UTF8.self) == "hello\nx")
        #expect(scanner.finish().isEmpty)
    }

    /// Random texts over a small alphabet: released bytes are always the final text's start, at most
    /// longest − 1 bytes are held back, and the text ends at the first stop (kept) or before it (stripped).
    @Test func randomTextsStopAtTheFirstOccurrence() throws {
        let stops = try Self.stops(["aba", "bb", "cab"])
        var rng = RNG(seed: 11)
        var stoppedCount = 0
        for _ in 0..<300 {
            let units = (0..<Int(rng.next() % 12)).map { _ in
                String((0..<(1 + Int(rng.next() % 3))).map { _ in Array("abc")[Int(rng.next() % 3)] })
            }
            let whole = units.joined()
            let firstEnd = stops.strings.compactMap { whole.range(of: $0)?.upperBound }.min()
            for strip in [false, true] {
                var scanner = StopScanner(stops: stops, strip: strip)
                var released: [UInt8] = []
                for unit in units where !scanner.isStopped {
                    released += scanner.append(Array(unit.utf8))
                    #expect(scanner.isStopped || scanner.text.count - released.count <= stops.longest - 1)
                    #expect(scanner.text.starts(with: released))
                }
                released += scanner.finish()
                let text = String(decoding: scanner.text, as: UTF8.self)
                #expect(Array(text.utf8) == released)
                if let firstEnd {
                    let upToStop = String(whole[..<firstEnd])
                    let stop = try #require(scanner.matched.map { stops.strings[$0] })
                    #expect(upToStop.hasSuffix(stop))
                    #expect(text == (strip ? String(upToStop.dropLast(stop.count)) : upToStop), "\(units)")
                    stoppedCount += 1
                } else {
                    #expect(scanner.matched == nil)
                    #expect(text == whole)
                }
            }
        }
        #expect(stoppedCount > 100, "the random texts exercise the stop")
    }

    @Test func stopStringsAreNormalizedLikeTheModelsText() throws {
        // NFD "é" becomes NFC; case folding lowers.
        let nfc = try Self.stops(["e\u{301}!"])
        #expect(nfc.patterns[0] == Array("\u{E9}!".utf8))
        let folded = try Self.stops(["ROMEO:"], TokenizerOptions(unit: .codepoint, caseFold: true))
        #expect(folded.patterns[0] == Array("romeo:".utf8))
        // Byte units: a unit's text is its byte.
        #expect(StopStrings.bytes(ofUnit: "\u{C3}", unit: .byte) == [0xC3])
        #expect(throws: GenerationError.self) { try Self.stops([""]) }
    }

    @Test func producibilityFollowsTheUnits() throws {
        let vocabulary = Vocabulary(units: ["hello", " ", "world"], tokenizer: TokenizerOptions(unit: .word))
        let stops = try Self.stops(["lo w", "low", "ll", "dh", "oo", "xx", "hello world", "world hello!"],
                                   TokenizerOptions(unit: .word))
        #expect(stops.unproducible(by: vocabulary) == ["oo", "xx", "world hello!"])
        // `<unk>` is never drawn, so its spelling does not count.
        let letters = Vocabulary(units: ["a", "b"], tokenizer: TokenizerOptions())
        #expect(try Self.stops(["abba", "<unk>", "c"]).unproducible(by: letters) == ["<unk>", "c"])
    }

    /// A random model (its draws are as good as a trained one's for cutting).
    static func generator(_ tokenizer: TokenizerOptions = TokenizerOptions()) throws -> Generator {
        let corpus = try TokenCorpus.load(text: TinyRun.text, tokenizer: tokenizer, validationFraction: 0.1, testFraction: 0.1)
        var config = TinyRun.model()
        config.vocabularySize = corpus.vocabulary.count
        return Generator(model: LanguageModel<Float>(config: config, seed: 3), vocabulary: corpus.vocabulary)
    }

    /// With stop strings each sample is the sample without them, for the same seed, cut at its first stop.
    @Test(arguments: [1, 3])
    func aStoppedSampleIsTheUnstoppedOneCutAtItsFirstStop(samples: Int) throws {
        let generator = try Self.generator()
        let prime = try generator.primeIDs("the ", policy: .error)
        let options = SamplingOptions(temperature: 1.2)
        let free = try generator.generate(prime: prime, length: .units(300), stop: nil, samples: samples,
                                          options: options, seed: 8)
        #expect(free.map(\.ids) == (try generator.generate(prime: prime, length: 300, samples: samples, options: options, seed: 8)))
        let texts = free.map(\.string)
        // Two characters of sample 0 (after a few units): present in it, likely absent from the start of others.
        let stop = String(Array(texts[0])[40..<42])
        for strip in [false, true] {
            for length in [GenerationLength.units(300), .untilStop(maxUnits: 300)] {
                var streamed = [[UInt8]](repeating: [], count: samples)
                let stopped = try generator.generate(
                    prime: prime, length: length, stop: StopCondition(strings: try Self.stops([stop]), strip: strip),
                    samples: samples, options: options, seed: 8) { sample, bytes in streamed[sample] += bytes }
                for sample in 0..<samples {
                    let text = texts[sample]
                    let result = stopped[sample]
                    #expect(streamed[sample] == result.text, "what is streamed is the sample")
                    if let range = text.range(of: stop) {
                        let expected = strip ? String(text[..<range.lowerBound]) : String(text[..<range.upperBound])
                        #expect(result.string == expected)
                        #expect(result.stop == stop)
                        #expect(free[sample].ids.starts(with: result.ids))
                        #expect(generator.vocabulary.decode(result.ids).hasPrefix(expected))
                    } else {
                        #expect(result == GeneratedSample(ids: free[sample].ids, text: free[sample].text, stop: nil))
                    }
                }
                #expect(stopped[0].stop == stop && stopped[0].ids.count <= 42)
            }
        }
    }

    @Test func aWordUnitRunningPastTheStopIsCut() throws {
        let generator = try Self.generator(TokenizerOptions(unit: .word))
        let free = try generator.generate(prime: [], length: .units(200), stop: nil, samples: 1,
                                          options: SamplingOptions(), seed: 2)[0]
        let units = free.ids.map { generator.vocabulary.unit(of: $0) }
        let first = try #require(units.firstIndex { $0.count >= 3 }, "some word of 3+ letters is drawn")
        let stop = String(units[first].prefix(2))
        let stopped = try generator.generate(prime: [], length: .units(200), stop: StopCondition(strings: try Self.stops([stop], TokenizerOptions(unit: .word))),
                                             samples: 1, options: SamplingOptions(), seed: 2)[0]
        let text = free.string
        let range = try #require(text.range(of: stop))
        #expect(stopped.string == String(text[..<range.upperBound]))
        #expect(stopped.string.hasSuffix(stop))
        #expect(stopped.ids.count <= first + 1)
        #expect(generator.vocabulary.decode(stopped.ids).count > stopped.string.count, "the last word is cut inside")
    }

    @Test func untilStopNeedsAStopAndStopsAtTheCap() throws {
        let generator = try Self.generator()
        #expect(throws: GenerationError.self) {
            try generator.generate(prime: [], length: .untilStop(maxUnits: 10), stop: nil, samples: 1,
                                   options: SamplingOptions(), seed: 1)
        }
        #expect(throws: GenerationError.self) {
            try generator.generate(prime: [], length: .untilStop(maxUnits: 0), stop: StopCondition(strings: try Self.stops(["a"])),
                                   samples: 1, options: SamplingOptions(), seed: 1)
        }
        for samples in [0, -2] {
            #expect(throws: GenerationError.self) {
                try generator.generate(prime: [], length: .units(5), stop: nil, samples: samples, options: SamplingOptions(), seed: 1)
            }
            #expect(throws: GenerationError.self) {
                try generator.generate(prime: [], length: 5, samples: samples, options: SamplingOptions(), seed: 1)
            }
        }
        // A stop string this random model will not produce within 7 units.
        let capped = try generator.generate(prime: [], length: .untilStop(maxUnits: 7),
                                            stop: StopCondition(strings: try Self.stops(["the cat sat on the mat."])),
                                            samples: 2, options: SamplingOptions(), seed: 1)
        #expect(capped.map(\.ids.count) == [7, 7])
        #expect(capped.allSatisfy { $0.stop == nil })
    }
}
