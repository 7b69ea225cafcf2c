/// A Go module version in semantic version syntax (`v1.2.3-pre+build`),
/// parsed and ordered exactly as golang.org/x/mod/semver does.
///
/// Shorthands that the go command accepts as queries (`v1`, `v1.2`) parse,
/// with the missing parts as zero, but are not canonical.
public struct SemanticVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The text as given.
    public let text: String
    let major: Substring
    let minor: Substring
    let patch: Substring
    /// Whether minor or patch were left out (`v1`, `v1.2`).
    let isShorthand: Bool
    /// Including its leading `-`, or empty.
    public let prerelease: Substring
    /// Including its leading `+`, or empty.
    public let build: Substring

    public init?(_ text: String) {
        guard let parsed = Self.parse(text) else { return nil }
        self = parsed
    }

    public var description: String { text }

    /// True for the form the go command uses in `.mod`/`.zip` requests and
    /// go.sum: all three numbers, no build suffix except `+incompatible`
    /// (module.CanonicalVersion(v) == v).
    public var isCanonical: Bool {
        !isShorthand && (build.isEmpty || build == "+incompatible")
    }

    /// `vMAJOR`, as used for path major version suffixes.
    public var majorVersion: String { "v" + major }

    public var isPrerelease: Bool { !prerelease.isEmpty }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.text == rhs.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }

    /// semver.Compare, with the text as tie-break so that the order is total
    /// (semver.Sort does the same).
    public static func < (lhs: Self, rhs: Self) -> Bool {
        let order = compare(lhs, rhs)
        return order != 0 ? order < 0 : lhs.text < rhs.text
    }

    /// -1, 0 or +1 as semver.Compare: build suffixes do not count.
    public static func compare(_ lhs: Self, _ rhs: Self) -> Int {
        if let order = [compareNumbers(lhs.major, rhs.major), compareNumbers(lhs.minor, rhs.minor),
            compareNumbers(lhs.patch, rhs.patch)].first(where: { $0 != 0 }) {
            return order
        }
        return comparePrereleases(lhs.prerelease, rhs.prerelease)
    }

    // MARK: Parsing (a port of x/mod/semver's parse)

    private init(
        text: String, major: Substring, minor: Substring, patch: Substring, isShorthand: Bool, prerelease: Substring,
        build: Substring
    ) {
        self.text = text
        self.major = major
        self.minor = minor
        self.patch = patch
        self.isShorthand = isShorthand
        self.prerelease = prerelease
        self.build = build
    }

    private static func parse(_ text: String) -> SemanticVersion? {
        guard text.first == "v" else { return nil }
        var rest = text.dropFirst()
        guard let major = number(&rest) else { return nil }
        if rest.isEmpty {
            return SemanticVersion(text: text, major: major, minor: "0", patch: "0", isShorthand: true, prerelease: "", build: "")
        }
        guard rest.first == "." else { return nil }
        rest = rest.dropFirst()
        guard let minor = number(&rest) else { return nil }
        if rest.isEmpty {
            return SemanticVersion(text: text, major: major, minor: minor, patch: "0", isShorthand: true, prerelease: "", build: "")
        }
        guard rest.first == "." else { return nil }
        rest = rest.dropFirst()
        guard let patch = number(&rest) else { return nil }
        var prerelease: Substring = ""
        var build: Substring = ""
        if rest.first == "-" {
            let end = rest.firstIndex(of: "+") ?? rest.endIndex
            prerelease = rest[..<end]
            guard identifiers(prerelease.dropFirst(), rejectLeadingZeros: true) else { return nil }
            rest = rest[end...]
        }
        if rest.first == "+" {
            build = rest
            guard identifiers(build.dropFirst(), rejectLeadingZeros: false) else { return nil }
            rest = rest[rest.endIndex...]
        }
        guard rest.isEmpty else { return nil }
        return SemanticVersion(
            text: text, major: major, minor: minor, patch: patch, isShorthand: false, prerelease: prerelease, build: build)
    }

    private static func number(_ text: inout Substring) -> Substring? {
        let digits = text.prefix(while: { $0.isASCII && $0.isNumber })
        guard !digits.isEmpty, !(digits.first == "0" && digits.count > 1) else { return nil }
        text = text[digits.endIndex...]
        return digits
    }

    private static func identifiers(_ text: Substring, rejectLeadingZeros: Bool) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.allSatisfy { part in
            guard !part.isEmpty, part.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
                return false
            }
            // A numeric identifier may not have leading zeros.
            return !(rejectLeadingZeros && part.count > 1 && part.first == "0" && part.allSatisfy(\.isNumber))
        }
    }

    private static func compareNumbers(_ lhs: Substring, _ rhs: Substring) -> Int {
        if lhs == rhs { return 0 }
        if lhs.count != rhs.count { return lhs.count < rhs.count ? -1 : 1 }
        return lhs < rhs ? -1 : 1
    }

    private static func comparePrereleases(_ lhs: Substring, _ rhs: Substring) -> Int {
        if lhs == rhs { return 0 }
        if lhs.isEmpty { return 1 }
        if rhs.isEmpty { return -1 }
        let left = lhs.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        let right = rhs.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        for (x, y) in zip(left, right) where x != y {
            let xNumeric = x.allSatisfy(\.isNumber)
            let yNumeric = y.allSatisfy(\.isNumber)
            if xNumeric != yNumeric { return xNumeric ? -1 : 1 }
            if xNumeric && x.count != y.count { return x.count < y.count ? -1 : 1 }
            return x < y ? -1 : 1
        }
        return left.count < right.count ? -1 : 1
    }
}
