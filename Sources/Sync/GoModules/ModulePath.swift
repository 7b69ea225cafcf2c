/// A Go module path, checked by the rules of golang.org/x/mod/module's
/// CheckPath, with its case-encoded form for URLs and file names.
///
/// Upper-case letters are written as `!` and the lower-case letter in
/// escaped paths (`github.com/Azure` ⇄ `github.com/!azure`), so that paths
/// differing only in case stay distinct on case-insensitive file systems.
public struct ModulePath: Hashable, Sendable, CustomStringConvertible {
    /// The path as written in go.mod.
    public let path: String
    /// The case-encoded path, as in proxy URLs.
    public let escaped: String

    public init(_ path: String) throws(ModuleNameError) {
        if let problem = ModuleNameRules.checkModulePath(Array(path.utf8)) {
            throw ModuleNameError(kind: .path, value: path, reason: problem)
        }
        self.path = path
        self.escaped = ModuleNameRules.escape(path)
    }

    public init(escaped: String) throws(ModuleNameError) {
        guard let bytes = ModuleNameRules.unescape(escaped.utf8) else {
            throw ModuleNameError(kind: .escapedPath, value: escaped, reason: "bad case encoding")
        }
        if let problem = ModuleNameRules.checkModulePath(bytes) {
            throw ModuleNameError(kind: .escapedPath, value: escaped, reason: problem)
        }
        // Without upper case the two forms are the same string.
        self.path = bytes.count == escaped.utf8.count ? escaped : String(decoding: bytes, as: UTF8.self)
        self.escaped = escaped
    }

    public var description: String { path }
}

/// A module version as it appears in the protocol: a canonical version
/// (`v1.2.3`, `v0.0.0-2023…-abcdef`, `v2.0.0+incompatible`) or a query the
/// proxy resolves (`master`, `v1.2`, a commit prefix).
public struct ModuleVersion: Hashable, Sendable, CustomStringConvertible {
    public let text: String
    /// The case-encoded form, as in proxy URLs.
    public let escaped: String
    /// True for versions whose files never change: what the go command
    /// sends for `.mod` and `.zip`, and what a query resolves to.
    public let isCanonical: Bool

    /// The version parsed for ordering, nil for queries that are not semver.
    public var semantic: SemanticVersion? { SemanticVersion(text) }

    public init(_ text: String) throws(ModuleNameError) {
        if let problem = ModuleNameRules.checkVersion(Array(text.utf8)) {
            throw ModuleNameError(kind: .version, value: text, reason: problem)
        }
        self.text = text
        self.escaped = ModuleNameRules.escape(text)
        self.isCanonical = SemanticVersion(text)?.isCanonical ?? false
    }

    public init(escaped: String) throws(ModuleNameError) {
        guard let bytes = ModuleNameRules.unescape(escaped.utf8) else {
            throw ModuleNameError(kind: .escapedVersion, value: escaped, reason: "bad case encoding")
        }
        if let problem = ModuleNameRules.checkVersion(bytes) {
            throw ModuleNameError(kind: .escapedVersion, value: escaped, reason: problem)
        }
        self.text = bytes.count == escaped.utf8.count ? escaped : String(decoding: bytes, as: UTF8.self)
        self.escaped = escaped
        self.isCanonical = SemanticVersion(text)?.isCanonical ?? false
    }

    public var description: String { text }
}

/// Why a module path or version was rejected.
public struct ModuleNameError: Error, Equatable, CustomStringConvertible {
    public enum Kind: Sendable { case path, escapedPath, version, escapedVersion }
    public let kind: Kind
    public let value: String
    public let reason: String

    public var description: String {
        switch kind {
        case .path: "malformed module path \"\(value)\": \(reason)"
        case .escapedPath: "invalid escaped module path \"\(value)\": \(reason)"
        case .version: "invalid version \"\(value)\": \(reason)"
        case .escapedVersion: "invalid escaped version \"\(value)\": \(reason)"
        }
    }
}

/// The checks of golang.org/x/mod/module (CheckPath, checkElem, escaping),
/// ported rule for rule. They work on bytes: module paths are ASCII by rule,
/// and so are versions in the protocol (EscapeVersion refuses anything else).
enum ModuleNameRules {
    private typealias Byte = UInt8

    static func checkModulePath(_ path: [UInt8]) -> String? {
        if let problem = checkPath(path) { return problem }
        let firstEnd = path.firstIndex(of: slash) ?? path.endIndex
        let first = path[..<firstEnd]
        if first.isEmpty { return "leading slash" }
        if !first.contains(dot) { return "missing dot in first path element" }
        if path.first == dash { return "leading dash in first path element" }
        if let bad = first.first(where: { !isFirstElementByte($0) }) {
            return "invalid char '\(Unicode.Scalar(bad))' in first path element"
        }
        if !hasValidMajorVersionSuffix(path) { return "invalid version" }
        return nil
    }

    static func checkVersion(_ version: [UInt8]) -> String? {
        // EscapeVersion refuses `!` and anything outside ASCII.
        if version.contains(bang) || version.contains(where: { $0 >= 0x80 }) { return "disallowed version string" }
        return checkElement(version[...], module: false)
    }

    private static let slash = UInt8(ascii: "/")
    private static let dot = UInt8(ascii: ".")
    private static let dash = UInt8(ascii: "-")
    private static let bang = UInt8(ascii: "!")
    private static let tilde = UInt8(ascii: "~")

    private static func checkPath(_ path: [UInt8]) -> String? {
        if path.isEmpty { return "empty string" }
        if path.first == dash { return "leading dash" }
        if zip(path, path.dropFirst()).contains(where: { $0 == slash && $1 == slash }) { return "double slash" }
        if path.last == slash { return "trailing slash" }
        var start = 0
        for index in 0...path.count where index == path.count || path[index] == slash {
            if let problem = checkElement(path[start..<index], module: true) { return problem }
            start = index + 1
        }
        return nil
    }

    private static let windowsReservedNames: Set<[UInt8]> = Set(
        ["CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
         "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9"].map { Array($0.utf8) })

    private static func checkElement(_ element: ArraySlice<UInt8>, module: Bool) -> String? {
        if element.isEmpty { return "empty path element" }
        if element.allSatisfy({ $0 == dot }) { return "invalid path element \"\(String(decoding: element, as: UTF8.self))\"" }
        if element.first == dot && module { return "leading dot in path element" }
        if element.last == dot { return "trailing dot in path element" }
        if let bad = element.first(where: { module ? !isModulePathByte($0) : !isFileNameByte($0) }) {
            return "invalid char '\(Unicode.Scalar(bad))'"
        }
        let short = element.prefix { $0 != dot }
        if short.count >= 3 && short.count <= 4 && windowsReservedNames.contains(short.map(uppercased)) {
            return "\"\(String(decoding: short, as: UTF8.self))\" disallowed as path element component on Windows"
        }
        if module, let position = short.lastIndex(of: tilde), position < short.endIndex - 1,
            short[(position + 1)...].allSatisfy(isDigit)
        {
            return "trailing tilde and digits in path element"
        }
        return nil
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    private static func isLower(_ byte: UInt8) -> Bool { byte >= 0x61 && byte <= 0x7A }
    private static func isUpper(_ byte: UInt8) -> Bool { byte >= 0x41 && byte <= 0x5A }
    private static func uppercased(_ byte: UInt8) -> UInt8 { isLower(byte) ? byte - 32 : byte }

    private static func isFirstElementByte(_ byte: UInt8) -> Bool {
        byte == dash || byte == dot || isDigit(byte) || isLower(byte)
    }

    private static func isModulePathByte(_ byte: UInt8) -> Bool {
        byte == dash || byte == dot || byte == UInt8(ascii: "_") || byte == tilde || isDigit(byte) || isLower(byte)
            || isUpper(byte)
    }

    /// module's fileNameOK for ASCII: letters, digits and `!#$%&()+,-.=@[]^_{}~ `.
    private static func isFileNameByte(_ byte: UInt8) -> Bool {
        if isDigit(byte) || isLower(byte) || isUpper(byte) { return true }
        switch byte {
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: "-"),
            UInt8(ascii: "."), UInt8(ascii: "="), UInt8(ascii: "@"), UInt8(ascii: "["), UInt8(ascii: "]"),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "~"),
            UInt8(ascii: " "):
            return true
        default:
            return false
        }
    }

    /// module.SplitPathVersion's check: a `/vN` suffix must be N ≥ 2 with no
    /// leading zero; gopkg.in paths must end in `.vN`.
    private static func hasValidMajorVersionSuffix(_ bytes: [UInt8]) -> Bool {
        if bytes.starts(with: "gopkg.in/".utf8) {
            var end = bytes.count
            if bytes.reversed().starts(with: "elbatsnu-".utf8) { end -= "-unstable".utf8.count }
            var start = end
            while start > 0 && isDigit(bytes[start - 1]) { start -= 1 }
            guard start > 1, bytes[start - 1] == UInt8(ascii: "v"), bytes[start - 2] == dot else { return false }
            let digits = bytes[start..<end]
            return !digits.isEmpty && (digits.first != UInt8(ascii: "0") || digits.count == 1)
        }
        var start = bytes.count
        var sawDot = false
        while start > 0 && (isDigit(bytes[start - 1]) || bytes[start - 1] == dot) {
            if bytes[start - 1] == dot { sawDot = true }
            start -= 1
        }
        guard start > 1, start < bytes.count, bytes[start - 1] == UInt8(ascii: "v"), bytes[start - 2] == slash else {
            return true
        }
        let suffix = bytes[start...]
        return !(sawDot || suffix.first == UInt8(ascii: "0") || (suffix.count == 1 && suffix.first == UInt8(ascii: "1")))
    }

    static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: isUpper) else { return text }
        var result: [UInt8] = []
        result.reserveCapacity(text.utf8.count + 8)
        for byte in text.utf8 {
            if isUpper(byte) {
                result.append(bang)
                result.append(byte + 32)
            } else {
                result.append(byte)
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    static func unescape(_ escaped: String.UTF8View) -> [UInt8]? {
        var result: [UInt8] = []
        result.reserveCapacity(escaped.count)
        var afterBang = false
        for byte in escaped {
            guard byte < 0x80 else { return nil }
            if afterBang {
                afterBang = false
                guard isLower(byte) else { return nil }
                result.append(byte - 32)
                continue
            }
            if byte == bang {
                afterBang = true
                continue
            }
            if isUpper(byte) { return nil }
            result.append(byte)
        }
        return afterBang ? nil : result
    }
}
