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
        if let problem = ModuleNameRules.checkModulePath(path) {
            throw ModuleNameError(kind: .path, value: path, reason: problem)
        }
        self.path = path
        self.escaped = ModuleNameRules.escape(path)
    }

    public init(escaped: String) throws(ModuleNameError) {
        guard let path = ModuleNameRules.unescape(escaped) else {
            throw ModuleNameError(kind: .escapedPath, value: escaped, reason: "bad case encoding")
        }
        if let problem = ModuleNameRules.checkModulePath(path) {
            throw ModuleNameError(kind: .escapedPath, value: escaped, reason: problem)
        }
        self.path = path
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
    public let semantic: SemanticVersion?

    public init(_ text: String) throws(ModuleNameError) {
        if let problem = ModuleNameRules.checkVersion(text) {
            throw ModuleNameError(kind: .version, value: text, reason: problem)
        }
        self.text = text
        self.escaped = ModuleNameRules.escape(text)
        self.semantic = SemanticVersion(text)
    }

    public init(escaped: String) throws(ModuleNameError) {
        guard let text = ModuleNameRules.unescape(escaped) else {
            throw ModuleNameError(kind: .escapedVersion, value: escaped, reason: "bad case encoding")
        }
        if let problem = ModuleNameRules.checkVersion(text) {
            throw ModuleNameError(kind: .escapedVersion, value: escaped, reason: problem)
        }
        self.text = text
        self.escaped = escaped
        self.semantic = SemanticVersion(text)
    }

    /// True for versions whose files never change: what the go command
    /// sends for `.mod` and `.zip`, and what a query resolves to.
    public var isCanonical: Bool { semantic?.isCanonical ?? false }

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
/// ported rule for rule.
enum ModuleNameRules {
    static func checkModulePath(_ path: String) -> String? {
        if let problem = checkPath(path, kind: .module) { return problem }
        let first = path.prefix { $0 != "/" }
        if first.isEmpty { return "leading slash" }
        if !first.contains(".") { return "missing dot in first path element" }
        if path.first == "-" { return "leading dash in first path element" }
        if let bad = first.unicodeScalars.first(where: { !isFirstElementCharacter($0) }) {
            return "invalid char '\(bad)' in first path element"
        }
        if !hasValidMajorVersionSuffix(path) { return "invalid version" }
        return nil
    }

    static func checkVersion(_ version: String) -> String? {
        // EscapeVersion refuses `!` and anything outside ASCII.
        if version.contains("!") || !version.utf8.allSatisfy({ $0 < 0x80 }) { return "disallowed version string" }
        return checkElement(Substring(version), kind: .file)
    }

    enum ElementKind { case module, file }

    private static func checkPath(_ path: String, kind: ElementKind) -> String? {
        if path.isEmpty { return "empty string" }
        if path.first == "-" { return "leading dash" }
        if path.contains("//") { return "double slash" }
        if path.last == "/" { return "trailing slash" }
        for element in path.split(separator: "/", omittingEmptySubsequences: false) {
            if let problem = checkElement(element, kind: kind) { return problem }
        }
        return nil
    }

    private static let windowsReservedNames: Set<String> = [
        "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
        "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    ]

    private static func checkElement(_ element: Substring, kind: ElementKind) -> String? {
        if element.isEmpty { return "empty path element" }
        if element.allSatisfy({ $0 == "." }) { return "invalid path element \"\(element)\"" }
        if element.first == "." && kind == .module { return "leading dot in path element" }
        if element.last == "." { return "trailing dot in path element" }
        for scalar in element.unicodeScalars {
            let allowed = kind == .module ? isModulePathCharacter(scalar) : isFileNameCharacter(scalar)
            if !allowed { return "invalid char '\(scalar)'" }
        }
        let short = element.prefix { $0 != "." }
        if windowsReservedNames.contains(short.uppercased()) {
            return "\"\(short)\" disallowed as path element component on Windows"
        }
        if kind == .module, let tilde = short.lastIndex(of: "~"), short.index(after: tilde) < short.endIndex,
            short[short.index(after: tilde)...].allSatisfy({ $0.isASCII && $0.isNumber })
        {
            return "trailing tilde and digits in path element"
        }
        return nil
    }

    private static func isFirstElementCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "-" || scalar == "." || ("0"..."9").contains(scalar) || ("a"..."z").contains(scalar)
    }

    private static func isModulePathCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "-" || scalar == "." || scalar == "_" || scalar == "~" || ("0"..."9").contains(scalar)
            || ("A"..."Z").contains(scalar) || ("a"..."z").contains(scalar)
    }

    private static func isFileNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            return ("0"..."9").contains(scalar) || ("A"..."Z").contains(scalar) || ("a"..."z").contains(scalar)
                || "!#$%&()+,-.=@[]^_{}~ ".unicodeScalars.contains(scalar)
        }
        return scalar.properties.isAlphabetic
    }

    /// module.SplitPathVersion's check: a `/vN` suffix must be N ≥ 2 with no
    /// leading zero; gopkg.in paths must end in `.vN`.
    private static func hasValidMajorVersionSuffix(_ path: String) -> Bool {
        let bytes = Array(path.utf8)
        if path.hasPrefix("gopkg.in/") {
            var end = bytes.count
            if path.hasSuffix("-unstable") { end -= "-unstable".utf8.count }
            var start = end
            while start > 0 && bytes[start - 1] >= UInt8(ascii: "0") && bytes[start - 1] <= UInt8(ascii: "9") { start -= 1 }
            guard start > 1, bytes[start - 1] == UInt8(ascii: "v"), bytes[start - 2] == UInt8(ascii: ".") else {
                return false
            }
            let digits = bytes[start..<end]
            return !digits.isEmpty && (digits.first != UInt8(ascii: "0") || digits.count == 1)
        }
        var start = bytes.count
        var dot = false
        while start > 0 && ((bytes[start - 1] >= UInt8(ascii: "0") && bytes[start - 1] <= UInt8(ascii: "9")) || bytes[start - 1] == UInt8(ascii: ".")) {
            if bytes[start - 1] == UInt8(ascii: ".") { dot = true }
            start -= 1
        }
        guard start > 1, start < bytes.count, bytes[start - 1] == UInt8(ascii: "v"), bytes[start - 2] == UInt8(ascii: "/") else {
            return true
        }
        let suffix = bytes[start...]
        return !(dot || suffix.first == UInt8(ascii: "0") || (suffix.count == 1 && suffix.first == UInt8(ascii: "1")))
    }

    static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            if ("A"..."Z").contains(scalar) {
                result.append("!")
                result.unicodeScalars.append(Unicode.Scalar(scalar.value + 32)!)
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    static func unescape(_ escaped: String) -> String? {
        var result = ""
        var bang = false
        for scalar in escaped.unicodeScalars {
            guard scalar.isASCII else { return nil }
            if bang {
                bang = false
                guard ("a"..."z").contains(scalar) else { return nil }
                result.unicodeScalars.append(Unicode.Scalar(scalar.value - 32)!)
                continue
            }
            if scalar == "!" {
                bang = true
                continue
            }
            if ("A"..."Z").contains(scalar) { return nil }
            result.unicodeScalars.append(scalar)
        }
        return bang ? nil : result
    }
}
