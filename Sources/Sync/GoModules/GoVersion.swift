/// A Go release or language version (`1.21`, `1.21.3`, `1.22rc1`,
/// `1.999testmod`), parsed and ordered as the go command's `gover` package
/// does: the versions of `go` and `toolchain` lines and of Go toolchains,
/// which are not semantic versions.
///
/// `1.21` (a language version) sorts before `1.21rc1`, which sorts before
/// `1.21.0`; before Go 1.21 a missing patch meant `.0` (`1.20` is `1.20.0`).
public struct GoVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The text as given (`1.21.3`).
    public let text: String
    let major: Substring
    let minor: Substring
    let patch: Substring
    /// `""`, `alpha`, `beta`, `rc` or any other lowercase word.
    let kind: Substring
    let prerelease: Substring

    public init?(_ text: String) {
        guard let parsed = Self.parse(text) else { return nil }
        self = parsed
    }

    /// The version a toolchain name stands for: `go1.21.3` and
    /// `go1.21.3-custom` are 1.21.3 (gover.FromToolchain); nil for a name
    /// that is not one.
    public init?(toolchain name: String) {
        guard name.hasPrefix("go"), !name.contains("/"), !name.contains("\\") else { return nil }
        var rest = name.dropFirst(2)
        if let cut = rest.firstIndex(where: { $0 == " " || $0 == "\t" || $0 == "-" }) { rest = rest[..<cut] }
        self.init(String(rest))
    }

    public var description: String { text }

    /// A language version: no patch and no pre-release (`1.21`).
    public var isLanguageVersion: Bool { patch.isEmpty && kind.isEmpty && prerelease.isEmpty }

    public var isPrerelease: Bool { !kind.isEmpty }

    /// The language version it belongs to (`1.21.3` → `1.21`).
    public var language: String {
        minor.isEmpty || (major == "1" && minor == "0") ? String(major) : "\(major).\(minor)"
    }

    /// Whether at least 1.`minor` (of Go 1).
    func isAtLeast(minor other: Int) -> Bool { self >= GoVersion("1.\(other)")! }

    public static func == (lhs: Self, rhs: Self) -> Bool { compare(lhs, rhs) == 0 }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(major)
        hasher.combine(minor)
        hasher.combine(patch)
        hasher.combine(kind)
        hasher.combine(prerelease)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { compare(lhs, rhs) < 0 }

    /// gover.Compare: numbers as numbers, then "" < alpha < beta < rc (< any other word).
    public static func compare(_ lhs: Self, _ rhs: Self) -> Int {
        for (left, right) in [(lhs.major, rhs.major), (lhs.minor, rhs.minor), (lhs.patch, rhs.patch)] {
            let order = DecimalText.compare(left, right)
            if order != 0 { return order }
        }
        if lhs.kind != rhs.kind { return lhs.kind < rhs.kind ? -1 : 1 }
        return DecimalText.compare(lhs.prerelease, rhs.prerelease)
    }

    // MARK: Parsing (a port of gover.Parse)

    private init(text: String, major: Substring, minor: Substring, patch: Substring, kind: Substring, prerelease: Substring) {
        self.text = text
        self.major = major
        self.minor = minor
        self.patch = patch
        self.kind = kind
        self.prerelease = prerelease
    }

    private static func parse(_ text: String) -> GoVersion? {
        var rest = Substring(text)
        guard let major = cutNumber(&rest) else { return nil }
        guard let dot = rest.first else {
            // "1" is 1.0.0.
            return GoVersion(text: text, major: major, minor: "0", patch: "0", kind: "", prerelease: "")
        }
        guard dot == "." else { return nil }
        rest = rest.dropFirst()
        guard let minor = cutNumber(&rest) else { return nil }
        guard let next = rest.first else {
            // Before Go 1.21 a missing patch is 0; from 1.21 it is a language version.
            let patch: Substring = DecimalText.compare(minor, "21") < 0 ? "0" : ""
            return GoVersion(text: text, major: major, minor: minor, patch: patch, kind: "", prerelease: "")
        }
        if next == "." {
            rest = rest.dropFirst()
            // No pre-release of a patch release.
            guard let patch = cutNumber(&rest), rest.isEmpty else { return nil }
            return GoVersion(text: text, major: major, minor: minor, patch: patch, kind: "", prerelease: "")
        }
        let kind = rest.prefix { $0.isASCII && $0.isLowercase }
        guard !kind.isEmpty else { return nil }
        rest = rest.dropFirst(kind.count)
        guard !rest.isEmpty else { return GoVersion(text: text, major: major, minor: minor, patch: "", kind: kind, prerelease: "") }
        guard let prerelease = cutNumber(&rest), rest.isEmpty else { return nil }
        return GoVersion(text: text, major: major, minor: minor, patch: "", kind: kind, prerelease: prerelease)
    }

    /// Cuts a decimal number (no leading zero unless it is "0") off the front.
    private static func cutNumber(_ text: inout Substring) -> Substring? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.first != "0" || digits.count == 1 else { return nil }
        text = text.dropFirst(digits.count)
        return digits
    }
}
