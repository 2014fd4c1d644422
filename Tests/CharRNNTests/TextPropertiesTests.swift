import Testing
@testable import CharRNN

/// The property extractors of `inspect-cells` on hand-made text.
@Suite struct TextPropertiesTests {
    static func units(_ text: String) -> [String] { text.map(String.init) }

    /// The property as a string of digits, one per unit (values are small integers here).
    static func digits(_ text: String, _ property: TextProperty, _ syntax: TextSyntax = .prose) -> String {
        let values = TextProperties.compute(units: units(text), syntax: syntax)[property]!
        return values.map { String(Int($0)) }.joined()
    }

    @Test func quotesAreInsideFromTheOpenerToBeforeTheCloser() {
        #expect(Self.digits("a “bc” d", .insideQuotes) == "00111000")
        #expect(Self.digits("«x “y” z»w", .insideQuotes) == "1111111100")
        #expect(Self.digits("a\"b\"c", .insideQuotes) == "01100")
        // A stray closer is ignored; an ASCII quote left open ends at a blank line.
        #expect(Self.digits("”a\"b\n\nc", .insideQuotes) == "0011100")
        #expect(Self.digits("“a\n\nb”c", .insideQuotes) == "1111100")  // curly quotes cross blank lines
    }

    @Test func bracketDepthAndLinePosition() {
        #expect(Self.digits("a(b[c]){d}", .bracketDepth) == "0112210110")
        #expect(Self.digits("))(", .bracketDepth) == "001")
        #expect(Self.digits("ab\ncde\n\nf", .linePosition) == "120123001")
        // Prose has no comment or string properties.
        #expect(TextProperties.compute(units: Self.units("a"), syntax: .prose)[.insideComment] == nil)
        #expect(TextProperty.properties(for: .lua).count == 5)
    }

    @Test func cCommentsAndStrings() {
        let text = "a/*b*/c//d\ne\"f\\\"g\"h'i'"
        //          a / * b * / c / / d \n e " f \ " g " h ' i '
        #expect(Self.digits(text, .insideComment, .c) == "0011100011000000000000")
        #expect(Self.digits(text, .insideString, .c) == "0000000000001111100110")
        // `/*/` does not close; `*//` closes and the next `/` is plain code.
        #expect(Self.digits("/*/x*//y", .insideComment, .c) == "01111000")
        // Brackets inside comments and strings are not counted; an unterminated string ends at the line.
        #expect(Self.digits("(/*(*/\"(\n)", .bracketDepth, .c) == "1111111110")
        #expect(Self.digits("\"ab\ncd", .insideString, .c) == "111000")
    }

    @Test func luaCommentsAndLongStrings() {
        #expect(Self.digits("a--b\nc", .insideComment, .lua) == "001100")
        #expect(Self.digits("--[[x\ny]]z", .insideComment, .lua) == "0111111100")
        #expect(Self.digits("--[==[a]]b]==]c", .insideComment, .lua) == "011111111111100")
        #expect(Self.digits("s=[[a]]t", .insideString, .lua) == "00011100")   // the first ] is still inside
        #expect(Self.digits("s=[=[a]]]=]t", .insideString, .lua) == "000011111100")
        // Indexing is not a long string; a minus is not a comment.
        #expect(Self.digits("t[i][j]-1", .insideString, .lua) == "000000000")
        #expect(Self.digits("t[i][j]-1", .insideComment, .lua) == "000000000")
        #expect(Self.digits("a[b[1]]", .bracketDepth, .lua) == "0112210")
    }
}
