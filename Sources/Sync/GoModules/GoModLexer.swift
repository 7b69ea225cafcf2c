/// Splits go.mod and go.work text into lines of tokens, the way
/// golang.org/x/mod/modfile reads them: words, Go-quoted strings (`"…"` and
/// `` `…` ``), the punctuation `( ) [ ] { } ,`, and `//` comments (a comment
/// after tokens on the same line is kept as the line's suffix: that is where
/// `// indirect` lives).
struct GoModLexer {
    struct Line: Equatable {
        var number: Int
        var tokens: [Token]
        /// The text of a `//` comment after the tokens, without the slashes.
        var suffixComment: String?
    }

    enum Token: Equatable {
        case word(String)
        /// A quoted string, unquoted.
        case string(String)
        case punctuation(Character)

        /// The token as a value: a word or a string.
        var text: String? {
            switch self {
            case .word(let text), .string(let text): text
            case .punctuation: nil
            }
        }
    }

    /// What separates tokens (a line's end aside).
    private static let blanks: Set<Character> = [" ", "\t", "\r"]

    /// golang.org/x/mod/modfile's isIdent: printable, not a space, not `( ) [ ] { } ,`.
    private static func isWordCharacter(_ character: Character) -> Bool {
        guard !"()[]{},".contains(character), !character.isWhitespace else { return false }
        return character.unicodeScalars.allSatisfy { scalar in
            switch scalar.properties.generalCategory {
            case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator: false
            default: true
            }
        }
    }

    static func lines(_ text: String, file: String) throws(GoFileError) -> [Line] {
        var result: [Line] = []
        for (index, raw) in text.textLines.enumerated() {
            let number = index + 1
            var tokens: [Token] = []
            var suffix: String?
            var rest = raw[...]
            while let first = rest.first {
                if Self.blanks.contains(first) {
                    rest = rest.dropFirst()
                    continue
                }
                if rest.hasPrefix("//") {
                    if !tokens.isEmpty { suffix = String(rest.dropFirst(2)) }
                    break
                }
                if rest.hasPrefix("/*") {
                    throw GoFileError(file: file, line: number, message: "mod files must use // comments (not /* */ comments)")
                }
                if "()[]{},".contains(first) {
                    tokens.append(.punctuation(first))
                    rest = rest.dropFirst()
                    continue
                }
                if first == "\"" || first == "`" {
                    let (value, remainder) = try quoted(rest, file: file, line: number)
                    tokens.append(.string(value))
                    rest = remainder
                    continue
                }
                // A word is printable, not a space, not punctuation, as modfile's
                // isIdent has it; anything else here is an error (so every step
                // of this loop moves on).
                guard Self.isWordCharacter(first) else {
                    throw GoFileError(file: file, line: number, message: "unexpected input character \(first.debugDescription)")
                }
                var word = ""
                while let character = rest.first, Self.isWordCharacter(character), !rest.hasPrefix("//") {
                    word.append(character)
                    rest = rest.dropFirst()
                }
                tokens.append(.word(word))
            }
            if !tokens.isEmpty { result.append(Line(number: number, tokens: tokens, suffixComment: suffix)) }
        }
        return result
    }

    /// A Go string literal at the start of `text`, unquoted, and what follows it.
    private static func quoted(_ text: Substring, file: String, line: Int) throws(GoFileError) -> (String, Substring) {
        let quote = text.first!
        var rest = text.dropFirst()
        var value = ""
        while true {
            guard let character = rest.first else {
                throw GoFileError(file: file, line: line, message: "unexpected end of line in string")
            }
            rest = rest.dropFirst()
            if character == quote { return (value, rest) }
            if character == "\\" && quote == "\"" {
                guard let escape = rest.first else {
                    throw GoFileError(file: file, line: line, message: "unexpected end of line in string")
                }
                rest = rest.dropFirst()
                switch escape {
                case "n": value.append("\n")
                case "t": value.append("\t")
                case "r": value.append("\r")
                case "\\", "\"", "'": value.append(escape)
                case "x", "u", "U":
                    let count = escape == "x" ? 2 : escape == "u" ? 4 : 8
                    let digits = rest.prefix(count)
                    guard digits.count == count, let code = UInt32(digits, radix: 16), let scalar = Unicode.Scalar(code) else {
                        throw GoFileError(file: file, line: line, message: "invalid escape in quoted string")
                    }
                    value.unicodeScalars.append(scalar)
                    rest = rest.dropFirst(count)
                default:
                    throw GoFileError(file: file, line: line, message: "invalid escape \\\(escape) in quoted string")
                }
                continue
            }
            value.append(character)
        }
    }

    /// Groups lines into directives: `verb args…` on one line, or a block
    /// `verb (` … `)` whose lines each get the verb.
    static func directives(_ lines: [Line], file: String) throws(GoFileError) -> [(verb: String, arguments: [Token], line: Line)] {
        var result: [(String, [Token], Line)] = []
        var block: String?
        for line in lines {
            if let verb = block {
                if line.tokens == [.punctuation(")")] {
                    block = nil
                } else {
                    result.append((verb, line.tokens, line))
                }
                continue
            }
            guard case .word(let verb) = line.tokens[0] else {
                throw GoFileError(file: file, line: line.number, message: "unexpected \(line.tokens[0]) at the start of a line")
            }
            let arguments = Array(line.tokens.dropFirst())
            if arguments == [.punctuation("(")] {
                block = verb
            } else if arguments == [.punctuation("("), .punctuation(")")] {
                continue
            } else {
                result.append((verb, arguments, line))
            }
        }
        if block != nil {
            throw GoFileError(file: file, line: (lines.last?.number ?? 0), message: "unterminated block: missing )")
        }
        return result
    }
}
