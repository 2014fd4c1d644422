/// How `TextProperties` reads a text: plain prose, or source code with C or Lua comments and strings.
public enum TextSyntax: String, Codable, Sendable, CaseIterable {
    /// Quotes, brackets and line position only.
    case prose
    /// C-like code: `//` and `/* */` comments, `"…"` and `'…'` literals with backslash escapes.
    case c
    /// Lua: `--` and `--[[ ]]` / `--[==[ ]==]` comments, `"…"`/`'…'` literals with backslash escapes
    /// and `[[ ]]` / `[==[ ]==]` long strings.
    case lua
}

/// A property of a text position that a hidden unit may track.
public enum TextProperty: String, Codable, Sendable, CaseIterable {
    /// 1 inside a quotation, 0 outside.
    case insideQuotes = "inside-quotes"
    /// Open brackets ( [ { not yet closed.
    case bracketDepth = "bracket-depth"
    /// Units since the last line break.
    case linePosition = "line-position"
    /// 1 inside a comment (code only).
    case insideComment = "inside-comment"
    /// 1 inside a string literal (code only).
    case insideString = "inside-string"

    /// One line saying how the value is defined.
    public var summary: String {
        switch self {
        case .insideQuotes: "1 between an opening and its closing quote (“ ” « » and \" … \"), else 0"
        case .bracketDepth: "open ( [ { not yet closed (outside comments and strings in code)"
        case .linePosition: "units read since the last line break"
        case .insideComment: "1 inside a comment, else 0"
        case .insideString: "1 inside a string literal, else 0"
        }
    }

    /// The properties computed for `syntax`.
    public static func properties(for syntax: TextSyntax) -> [TextProperty] {
        syntax == .prose ? [.insideQuotes, .bracketDepth, .linePosition] : allCases
    }
}

/// Per-position properties of a text, each the value **after reading** unit t (what a model's
/// state after step t can know): an opening quote is already inside (1), its closing quote is
/// outside again (0); a line break has line position 0 and the unit after it 1.
///
/// Rules (units are compared whole, so with `--unit byte` only ASCII delimiters are seen):
/// - quotes: “ … ” and « … » nest by counting (a closer without an opener is ignored); an ASCII
///   `"` toggles, and a blank line (a unit with a line break right after another) ends an ASCII
///   quotation left open. In code the same rules apply (a `"…"` string counts as a quotation).
/// - brackets: ( [ { add one, ) ] } subtract one (never below 0); in code only outside comments
///   and strings.
/// - code (`.c`, `.lua`): a comment starts at the second unit of its opener (`//`, `/*`, `--`), a
///   line comment ends at the line break (0 there), a block comment at the last unit of its closer
///   (`*/`, `]]`, `]==]`; 0 there). A string starts at its opening quote (1) and ends at the closing
///   one (0) or at a line break (unterminated); a backslash escapes the next unit. Lua long strings
///   `[[ … ]]` start at their second `[`.
public enum TextProperties {
    /// Every property of `syntax` (`TextProperty.properties(for:)`) for `units`, each `units.count` values.
    public static func compute(units: [String], syntax: TextSyntax) -> [TextProperty: [Double]] {
        let n = units.count
        var quotes = [Double](repeating: 0, count: n), depth = [Double](repeating: 0, count: n)
        var column = [Double](repeating: 0, count: n)
        var comment = [Double](repeating: 0, count: n), string = [Double](repeating: 0, count: n)
        var code = CodeScanner(syntax: syntax)
        var curly = 0, guillemets = 0, asciiOpen = false, brackets = 0, position = 0, previousBreak = false
        for (t, unit) in units.enumerated() {
            let isBreak = unit.contains("\n") || unit.contains("\r")
            // Code state first: brackets count only in plain code.
            let (inComment, inString, plain) = code.read(unit, isBreak: isBreak)
            comment[t] = inComment ? 1 : 0
            string[t] = inString ? 1 : 0
            switch unit {
            case "“": curly += 1
            case "”": curly = max(0, curly - 1)
            case "«": guillemets += 1
            case "»": guillemets = max(0, guillemets - 1)
            case "\"": asciiOpen.toggle()
            default: break
            }
            if isBreak && previousBreak { asciiOpen = false }
            quotes[t] = curly > 0 || guillemets > 0 || asciiOpen ? 1 : 0
            if syntax == .prose || plain {
                switch unit {
                case "(", "[", "{": brackets += 1
                case ")", "]", "}": brackets = max(0, brackets - 1)
                default: break
                }
            }
            depth[t] = Double(brackets)
            position = isBreak ? 0 : position + 1
            column[t] = Double(position)
            previousBreak = isBreak
        }
        var result: [TextProperty: [Double]] = [.insideQuotes: quotes, .bracketDepth: depth, .linePosition: column]
        if syntax != .prose {
            result[.insideComment] = comment
            result[.insideString] = string
        }
        return result
    }
}

/// The comment/string state machine of `TextProperties` for C and Lua (see its rules).
struct CodeScanner {
    enum State: Equatable {
        case code
        case lineComment
        /// Block comment; `level` is the number of `=` in a Lua long bracket (0 for C's `/* */`).
        case blockComment(level: Int)
        case string(quote: String)
        case longString(level: Int)
    }

    let syntax: TextSyntax
    private(set) var state = State.code
    private var previous = ""
    /// Inside a string: the last unit was a backslash.
    private var escaped = false
    /// Lua: `=` signs seen after a `[` that may open a long bracket (nil: none pending).
    private var openLevel: Int?
    /// Lua: right after `--`, the long-bracket opener read so far (-1: nothing yet; nil: a line comment).
    private var commentHead: Int?
    /// Inside a Lua long bracket: `=` signs after a `]` that may close it (nil: none pending).
    private var closeLevel: Int?

    init(syntax: TextSyntax) { self.syntax = syntax }

    /// Reads one unit; returns whether it is inside a comment, inside a string, and plain code
    /// (neither, and not a delimiter of one).
    mutating func read(_ unit: String, isBreak: Bool) -> (comment: Bool, string: Bool, plain: Bool) {
        guard syntax != .prose else { return (false, false, true) }
        // An opener's or closer's last unit does not start the next delimiter (`/*/`, `*//`).
        var forget = false
        defer { previous = forget ? "" : unit }
        switch state {
        case .code:
            if syntax == .c && previous == "/" && (unit == "/" || unit == "*") {
                state = unit == "/" ? .lineComment : .blockComment(level: 0)
                forget = true
                return (true, false, false)
            }
            if syntax == .lua && previous == "-" && unit == "-" {
                state = .lineComment
                forget = true
                commentHead = -1
                return (true, false, false)
            }
            if unit == "\"" || unit == "'" {
                state = .string(quote: unit)
                escaped = false
                return (false, true, false)
            }
            if syntax == .lua {
                if unit == "[" {
                    if let level = openLevel {
                        state = .longString(level: level)
                        openLevel = nil
                        closeLevel = nil
                        return (false, true, false)
                    }
                    openLevel = 0
                } else if unit == "=", let level = openLevel {
                    openLevel = level + 1
                } else {
                    openLevel = nil
                }
            }
            return (false, false, true)
        case .lineComment:
            if isBreak { state = .code; commentHead = nil; return (false, false, false) }
            if syntax == .lua, let head = commentHead {
                if unit == "[" && head == -1 { commentHead = 0 }
                else if unit == "=" && head >= 0 { commentHead = head + 1 }
                else if unit == "[" && head >= 0 { state = .blockComment(level: head); commentHead = nil; closeLevel = nil }
                else { commentHead = nil }
            }
            return (true, false, false)
        case .blockComment(let level):
            if syntax == .c {
                if previous == "*" && unit == "/" { state = .code; forget = true; return (false, false, false) }
                return (true, false, false)
            }
            if closesLongBracket(unit, level: level) { state = .code; return (false, false, false) }
            return (true, false, false)
        case .string(let quote):
            if escaped { escaped = false; return (false, true, false) }
            if unit == "\\" { escaped = true; return (false, true, false) }
            if unit == quote || isBreak { state = .code; return (false, false, false) }
            return (false, true, false)
        case .longString(let level):
            if closesLongBracket(unit, level: level) { state = .code; return (false, false, false) }
            return (false, true, false)
        }
    }

    /// Follows `]`, `=`…, `]` inside a Lua long bracket; true at the `]` that closes `level`.
    private mutating func closesLongBracket(_ unit: String, level: Int) -> Bool {
        if unit == "]" {
            if closeLevel == level { closeLevel = nil; return true }
            closeLevel = 0
        } else if unit == "=", let seen = closeLevel {
            closeLevel = seen + 1
        } else {
            closeLevel = nil
        }
        return false
    }
}
