/// The part of TOML a goedge.toml uses: a flat table of keys whose values
/// are strings, integers, booleans or arrays of strings, with comments.
///
/// goedge's own reader: fuzzing found that TOMLKit's C++ parser aborts the
/// process on some malformed files (an assertion in toml++, kept in release
/// builds) and leaks on each parse; a configuration file must never crash
/// goedge. What TOML allows and goedge has no use for (sections, dotted or
/// quoted keys, floats, dates, inline tables) is reported with its line,
/// never misread.
package enum FlatTOML {
    package enum Value: Equatable, Sendable {
        case string(String)
        case integer(Int)
        case boolean(Bool)
        case array([Value])
        /// A value TOML has and goedge takes for no setting (a float, a date, an inline table).
        case other(String)
    }

    package struct Entry: Equatable, Sendable {
        package var key: String
        package var value: Value
        package var line: Int
    }

    /// A section (`[name]`) or one element of an array of tables
    /// (`[[name]]`), with the flat entries written in it.
    package struct Section: Equatable, Sendable {
        package var name: String
        package var line: Int
        package var isArrayElement = false
        package var entries: [Entry] = []

        package init(name: String, line: Int, isArrayElement: Bool = false, entries: [Entry] = []) {
            self.name = name
            self.line = line
            self.isArrayElement = isArrayElement
            self.entries = entries
        }
    }

    package struct SyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
        package var line: Int
        package var column: Int
        package var message: String
        package var description: String { "\(line):\(column): \(message)" }
    }

    /// The top-level entries, and the sections with theirs.
    package static func parse(_ text: String) throws(SyntaxError) -> (entries: [Entry], sections: [Section]) {
        var reader = Reader(Array(text.unicodeScalars))
        var entries: [Entry] = []
        var sections: [Section] = []
        var seen: Set<String> = []
        var seenInSection: Set<String> = []
        while true {
            reader.skipBlanksAndComments()
            guard let first = reader.peek() else { break }
            let line = reader.line
            if first == "[" {
                let (name, isArrayElement) = try reader.sectionHeader()
                sections.append(Section(name: name, line: line, isArrayElement: isArrayElement))
                seenInSection = []
                try reader.endOfLine()
                continue
            }
            let key = try reader.key()
            reader.skipSpaces()
            try reader.expect("=", "expected = after the key")
            reader.skipSpaces()
            let value = try reader.value()
            try reader.endOfLine()
            if !sections.isEmpty {
                guard seenInSection.insert(key).inserted else {
                    throw SyntaxError(line: line, column: 1, message: "\(key) is set twice in [\(sections[sections.count - 1].name)]")
                }
                sections[sections.count - 1].entries.append(Entry(key: key, value: value, line: line))
                continue
            }
            guard seen.insert(key).inserted else {
                throw SyntaxError(line: line, column: 1, message: "\(key) is set twice")
            }
            entries.append(Entry(key: key, value: value, line: line))
        }
        return (entries, sections)
    }
}

/// A cursor over the file's characters that knows its line and column.
private struct Reader {
    private let scalars: [Unicode.Scalar]
    private var position = 0
    private(set) var line = 1
    private var lineStart = 0

    /// Nesting of arrays allowed: goedge's settings need one level; a few more is plenty.
    static let maximumDepth = 8

    init(_ scalars: [Unicode.Scalar]) {
        self.scalars = scalars
    }

    var column: Int { position - lineStart + 1 }

    func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        position + offset < scalars.count ? scalars[position + offset] : nil
    }

    mutating func advance() {
        if scalars[position] == "\n" {
            line += 1
            lineStart = position + 1
        }
        position += 1
    }

    func error(_ message: String) -> FlatTOML.SyntaxError {
        FlatTOML.SyntaxError(line: line, column: column, message: message)
    }

    mutating func skipSpaces() {
        while let scalar = peek(), scalar == " " || scalar == "\t" { advance() }
    }

    mutating func skipBlanksAndComments() {
        while let scalar = peek() {
            if scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" {
                advance()
            } else if scalar == "#" {
                while let next = peek(), next != "\n" { advance() }
            } else {
                return
            }
        }
    }

    mutating func expect(_ scalar: Unicode.Scalar, _ message: String) throws(FlatTOML.SyntaxError) {
        guard peek() == scalar else { throw error(message) }
        advance()
    }

    /// After a value: blanks, perhaps a comment, then the end of the line.
    mutating func endOfLine() throws(FlatTOML.SyntaxError) {
        skipSpaces()
        if peek() == "#" {
            while let next = peek(), next != "\n" { advance() }
        }
        if peek() == "\r" { advance() }
        guard peek() == nil || peek() == "\n" else { throw error("expected the end of the line") }
    }

    /// `[name]` or `[[name]]`, and which of the two.
    mutating func sectionHeader() throws(FlatTOML.SyntaxError) -> (name: String, isArrayElement: Bool) {
        advance()
        let double = peek() == "["
        if double { advance() }
        var name = ""
        while let scalar = peek(), scalar != "]", scalar != "\n" {
            name.unicodeScalars.append(scalar)
            advance()
        }
        try expect("]", "a section header needs its ]")
        if double { try expect("]", "a section header needs its ]]") }
        let trimmed = name.trimmingCharacters(" \t")
        guard !trimmed.isEmpty else { throw error("empty section name") }
        return (trimmed, double)
    }

    /// A bare key: letters, digits, `-` and `_`.
    mutating func key() throws(FlatTOML.SyntaxError) -> String {
        var key = ""
        while let scalar = peek(), Self.isBareKey(scalar) {
            key.unicodeScalars.append(scalar)
            advance()
        }
        guard !key.isEmpty else {
            if peek() == "\"" || peek() == "'" { throw error("write keys without quotes") }
            throw error("expected a key")
        }
        if peek() == "." { throw error("dotted keys are not used; write each setting at the top of the file") }
        return key
    }

    private static func isBareKey(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", "-", "_": true
        default: false
        }
    }

    mutating func value(depth: Int = 0) throws(FlatTOML.SyntaxError) -> FlatTOML.Value {
        guard let first = peek() else { throw error("expected a value") }
        switch first {
        case "\"":
            if peek(1) == "\"" && peek(2) == "\"" { throw error("multi-line strings are not used; write the value on one line") }
            return .string(try basicString())
        case "'":
            if peek(1) == "'" && peek(2) == "'" { throw error("multi-line strings are not used; write the value on one line") }
            return .string(try literalString())
        case "[":
            guard depth < Self.maximumDepth else { throw error("arrays nested too deeply") }
            return .array(try array(depth: depth + 1))
        case "{":
            // An inline table: read over it, as a value of another type.
            try skipInlineTable()
            return .other("an inline table")
        default:
            return try bareValue()
        }
    }

    private mutating func basicString() throws(FlatTOML.SyntaxError) -> String {
        advance()
        var text = ""
        while true {
            guard let scalar = peek(), scalar != "\n" else { throw error("unterminated string") }
            advance()
            if scalar == "\"" { return text }
            guard scalar == "\\" else {
                guard scalar.value >= 0x20 || scalar == "\t", scalar.value != 0x7F else {
                    throw error("control character in a string")
                }
                text.unicodeScalars.append(scalar)
                continue
            }
            guard let escape = peek() else { throw error("unterminated string") }
            advance()
            switch escape {
            case "\"": text.append("\"")
            case "\\": text.append("\\")
            case "n": text.append("\n")
            case "t": text.append("\t")
            case "r": text.append("\r")
            case "b": text.append("\u{08}")
            case "f": text.append("\u{0C}")
            case "u", "U":
                let count = escape == "u" ? 4 : 8
                var digits = ""
                for _ in 0..<count {
                    guard let digit = peek(), digit.properties.isASCIIHexDigit else { throw error("invalid unicode escape") }
                    digits.unicodeScalars.append(digit)
                    advance()
                }
                guard let code = UInt32(digits, radix: 16), let scalar = Unicode.Scalar(code) else {
                    throw error("invalid unicode escape")
                }
                text.unicodeScalars.append(scalar)
            default:
                throw error("invalid escape \\\(escape)")
            }
        }
    }

    private mutating func literalString() throws(FlatTOML.SyntaxError) -> String {
        advance()
        var text = ""
        while true {
            guard let scalar = peek(), scalar != "\n" else { throw error("unterminated string") }
            advance()
            if scalar == "'" { return text }
            text.unicodeScalars.append(scalar)
        }
    }

    private mutating func array(depth: Int) throws(FlatTOML.SyntaxError) -> [FlatTOML.Value] {
        advance()
        var items: [FlatTOML.Value] = []
        while true {
            skipBlanksAndComments()
            if peek() == "]" {
                advance()
                return items
            }
            items.append(try value(depth: depth))
            skipBlanksAndComments()
            if peek() == "," {
                advance()
            } else if peek() != "]" {
                throw error("expected , or ] in an array")
            }
        }
    }

    private mutating func skipInlineTable() throws(FlatTOML.SyntaxError) {
        var depth = 0
        while let scalar = peek(), scalar != "\n" {
            advance()
            if scalar == "{" { depth += 1 }
            if scalar == "}" {
                depth -= 1
                if depth == 0 { return }
            }
        }
        throw error("an inline table needs its }")
    }

    /// true, false, an integer, or another TOML value (a float, a date) goedge takes for no setting.
    private mutating func bareValue() throws(FlatTOML.SyntaxError) -> FlatTOML.Value {
        var text = ""
        while let scalar = peek(), !(scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar == ","
            || scalar == "]" || scalar == "#")
        {
            text.unicodeScalars.append(scalar)
            advance()
        }
        switch text {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "": throw error("expected a value")
        default: break
        }
        let digits = String(text.filter { $0 != "_" })
        if let number = Int(digits), !text.hasPrefix("_"), !text.hasSuffix("_"), !text.contains("__") {
            return .integer(number)
        }
        guard text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else { throw error("expected a value") }
        return .other(text)
    }
}

extension String {
    fileprivate func trimmingCharacters(_ set: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
