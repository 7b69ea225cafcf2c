import Foundation

/// Which checksum database vouches for module hashes, as GOSUMDB names it:
/// `sum.golang.org` (its key is known), `name+hash+key`, either followed by
/// the database's own URL; `off` for none. Without a URL the database is
/// read through the upstream list, as the go command reads it through a
/// proxy (`<upstream>/sumdb/<name>/…`).
public struct ChecksumDatabaseSetting: Sendable, Equatable {
    public let key: VerifierKey
    /// The database's own URL, when it is not read through the upstreams.
    public let url: String?

    /// The keys of the databases the go command knows by name.
    static let knownKeys = [
        "sum.golang.org": "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
        "sum.golang.google.cn": "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
    ]

    /// nil for `off`.
    public static func parse(_ text: String) throws(VerifierKey.Failure) -> ChecksumDatabaseSetting? {
        let fields = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let first = fields.first else { throw VerifierKey.Failure(description: "empty checksum-database") }
        if first == "off" && fields.count == 1 { return nil }
        guard fields.count <= 2 else {
            throw VerifierKey.Failure(description: "checksum-database is a name or key and at most a URL, not \(text)")
        }
        var url = fields.count == 2 ? fields[1] : nil
        let keyText: String
        if let known = knownKeys[first] {
            keyText = known
            // sum.golang.google.cn is the same database behind another address.
            if first == "sum.golang.google.cn", url == nil { url = "https://sum.golang.google.cn" }
        } else {
            keyText = first
        }
        if let given = url, !(given.hasPrefix("https://") || given.hasPrefix("http://")) {
            throw VerifierKey.Failure(description: "the checksum database URL \(given) is not http:// or https://")
        }
        return ChecksumDatabaseSetting(key: try VerifierKey(parsing: keyText), url: url.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 })
    }
}

/// GONOSUMDB's patterns: comma-separated globs, each matching a module path
/// or any path it is a prefix of, element by element
/// (cmd/go/internal/str.MatchPrefixPatterns).
public struct ModulePrefixPatterns: Sendable, Equatable {
    public let patterns: [String]

    public init(_ text: String) {
        patterns = text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    public func matches(_ module: String) -> Bool {
        let elements = module.split(separator: "/", omittingEmptySubsequences: false)
        for pattern in patterns {
            let patternElements = pattern.split(separator: "/", omittingEmptySubsequences: false)
            guard patternElements.count <= elements.count else { continue }
            if zip(patternElements, elements).allSatisfy({ Glob.matches(String($0), String($1)) }) { return true }
        }
        return false
    }
}

/// path.Match for one element: `*`, `?` and `[…]` classes (no `/` inside an element).
enum Glob {
    static func matches(_ pattern: String, _ text: String) -> Bool {
        let pattern = Array(pattern.unicodeScalars)
        let text = Array(text.unicodeScalars)
        // Bounded work: patterns and elements are short, and the match is iterative with one backtrack point.
        var p = 0
        var t = 0
        var star: Int?
        var starText = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == "*" {
                star = p
                starText = t
                p += 1
                continue
            }
            if p < pattern.count, let next = single(pattern, p, text[t]) {
                if next.matched {
                    p = next.end
                    t += 1
                    continue
                }
            }
            guard let starAt = star else { return false }
            p = starAt + 1
            starText += 1
            t = starText
        }
        while p < pattern.count, pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }

    /// Whether the pattern item at `position` matches `scalar`, and where the item ends.
    private static func single(_ pattern: [Unicode.Scalar], _ position: Int, _ scalar: Unicode.Scalar) -> (matched: Bool, end: Int)? {
        switch pattern[position] {
        case "?": return (true, position + 1)
        case "[":
            var index = position + 1
            var negated = false
            if index < pattern.count, pattern[index] == "^" || pattern[index] == "!" {
                negated = true
                index += 1
            }
            var matched = false
            var first = true
            while index < pattern.count, pattern[index] != "]" || first {
                first = false
                let low = pattern[index]
                if index + 2 < pattern.count, pattern[index + 1] == "-", pattern[index + 2] != "]" {
                    if low.value <= scalar.value && scalar.value <= pattern[index + 2].value { matched = true }
                    index += 3
                } else {
                    if low == scalar { matched = true }
                    index += 1
                }
            }
            guard index < pattern.count else { return nil }
            return (matched != negated, index + 1)
        case "\\":
            guard position + 1 < pattern.count else { return nil }
            return (pattern[position + 1] == scalar, position + 2)
        default:
            return (pattern[position] == scalar, position + 1)
        }
    }
}
