import Testing
@testable import TextCorpus

@Suite struct TokenizerTests {
    let graphemes = Tokenizer()

    @Test func italianPrecomposedAndCombiningBecomeOneUnitUnderNFC() throws {
        let precomposed = "perch\u{E9} citt\u{E0} cos\u{EC}"      // é à ì as single code points
        let combining = "perche\u{301} citta\u{300} cosi\u{300}"   // base letter + combining accent
        // Swift's String == compares canonical equivalence, so compare scalars.
        #expect(scalars([precomposed]) != scalars([combining]))
        let a = try graphemes.units(of: precomposed)
        let b = try graphemes.units(of: combining)
        #expect(scalars(a) == scalars(b))
        #expect(a.count == 17)
        #expect(a[5] == "\u{E9}")
        #expect(a[5].unicodeScalars.count == 1)
        // Without normalization the spellings stay different units (still one grapheme each).
        let raw = Tokenizer(TokenizerOptions(normalization: .none))
        let rawB = try raw.units(of: combining)
        #expect(rawB.count == 17)
        #expect(rawB[5].unicodeScalars.count == 2)
        #expect(scalars(try raw.units(of: precomposed)) != scalars(rawB))
        // Code points: the combining spelling composes to the same scalars under NFC.
        let codepoints = Tokenizer(TokenizerOptions(unit: .codepoint))
        #expect(scalars(try codepoints.units(of: combining)) == scalars(try codepoints.units(of: precomposed)))
        #expect(try codepoints.units(of: combining).count == 17)
        #expect(try Tokenizer(TokenizerOptions(unit: .codepoint, normalization: .none)).units(of: combining).count == 20)
    }

    @Test func emojiZWJSequencesAndFlagsAreSingleGraphemes() throws {
        let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}"
        let rainbow = "\u{1F3F3}\u{FE0F}\u{200D}\u{1F308}"
        let italy = "\u{1F1EE}\u{1F1F9}", japan = "\u{1F1EF}\u{1F1F5}"
        let thumbs = "\u{1F44D}\u{1F3FD}"
        let text = "a" + family + rainbow + italy + japan + thumbs + "b"
        let units = try graphemes.units(of: text)
        #expect(units == ["a", family, rainbow, italy, japan, thumbs, "b"])
        #expect(try Tokenizer(TokenizerOptions(unit: .codepoint)).units(of: text).count == 2 + 7 + 4 + 2 + 2 + 2)
    }

    @Test func devanagariClusters() throws {
        // क + ि (vowel sign, a spacing mark) is one cluster; ICU 72 also keeps the conjunct स्ते together.
        let text = "नमस्ते किताब"
        let units = try graphemes.units(of: text)
        #expect(scalars([units.joined()]) == scalars([text]))
        #expect(units.contains("कि"))
        #expect(units.contains("ता"))
        #expect(units.count == 7)
        #expect(text.unicodeScalars.count == 12)
    }

    @Test func hebrewWithPointsKeepsMarksOnTheirLetter() throws {
        let text = "בְּרֵאשִׁית בָּרָא"
        let units = try graphemes.units(of: text)
        #expect(units.joined() == text)  // canonically equivalent (NFC reorders sheva before dagesh)
        #expect(units.count == 10)
        // Every cluster starts with a letter (or is the space): no mark stands alone.
        for unit in units where unit != " " {
            let first = unit.unicodeScalars.first!.value
            #expect((0x05D0...0x05EA).contains(first))
        }
        #expect(units.first!.unicodeScalars.count == 3)  // ב + dagesh + sheva
    }

    @Test func cjkAndWordSegmentationByDictionary() throws {
        let cjk = "我爱北京天安门。"
        #expect(try graphemes.units(of: cjk).count == 8)
        let words = Tokenizer(TokenizerOptions(unit: .word))
        let zh = try words.units(of: cjk)
        #expect(zh.joined() == cjk)
        #expect(zh.count < 8)            // dictionary segmentation groups characters into words
        #expect(zh.contains("北京"))
        let thai = "ภาษาไทยง่ายนิดเดียว"
        let th = try words.units(of: thai)
        #expect(th.joined() == thai)
        #expect(th.count >= 3)
        #expect(th.first == "ภาษา")
        let ja = "私は東京に住んでいます"
        let jaUnits = try words.units(of: ja)
        #expect(jaUnits.joined() == ja)
        #expect(jaUnits.contains("東京"))
    }

    @Test func wordUnitsKeepSpacesAndPunctuation() throws {
        let text = "Hello, world! It's 3.14 — ok.\n"
        let units = try Tokenizer(TokenizerOptions(unit: .word)).units(of: text)
        #expect(units.joined() == text)
        #expect(units == ["Hello", ",", " ", "world", "!", " ", "It's", " ", "3.14", " ", "—", " ", "ok", ".", "\n"])
    }

    @Test func caseFoldingAndNFKC() throws {
        let fold = Tokenizer(TokenizerOptions(unit: .codepoint, caseFold: true))
        #expect(try fold.units(of: "ÀB Straße") == ["à", "b", " ", "s", "t", "r", "a", "s", "s", "e"])
        let nfkc = Tokenizer(TokenizerOptions(unit: .codepoint, normalization: .nfkc))
        #expect(try nfkc.units(of: "ﬁ²Ａ") == ["f", "i", "2", "A"])
        #expect(try Tokenizer(TokenizerOptions(unit: .codepoint)).units(of: "ﬁ²Ａ") == ["ﬁ", "²", "Ａ"])
    }

    @Test func byteUnitsRoundTrip() throws {
        let bytes = Tokenizer(TokenizerOptions(unit: .byte))
        let text = "è€😀a"
        let units = try bytes.units(of: text)
        #expect(units.count == text.utf8.count)
        #expect(units.map { $0.unicodeScalars.first!.value } == text.utf8.map { UInt32($0) })
        #expect(bytes.join(units) == text)
    }

    @Test func crlfIsOneGraphemeAndPrependJoinsAscii() throws {
        #expect(try graphemes.units(of: "a\r\nb") == ["a", "\r\n", "b"])
        // U+0600 ARABIC NUMBER SIGN is Prepend: it joins the following ASCII digit (GB9b).
        #expect(try graphemes.units(of: "x\u{600}12") == ["x", "\u{600}1", "2"])
        // An ASCII letter followed by a combining mark is one cluster, even at the end of an ASCII run.
        #expect(scalars(try graphemes.units(of: "abc\u{301}d")) == scalars(["a", "b", "\u{107}", "d"]))
    }
}

/// Units as scalar values: Swift's String == treats canonically equivalent strings as equal.
func scalars(_ units: [String]) -> [[UInt32]] {
    units.map { $0.unicodeScalars.map(\.value) }
}
