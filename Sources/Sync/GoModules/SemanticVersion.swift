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
        if let order = [DecimalText.compare(lhs.major, rhs.major), DecimalText.compare(lhs.minor, rhs.minor),
            DecimalText.compare(lhs.patch, rhs.patch)].first(where: { $0 != 0 }) {
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
        // ASCII only, so UTF-8 positions are character positions.
        let bytes = text.utf8
        guard bytes.first == UInt8(ascii: "v"), bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        var position = bytes.index(after: bytes.startIndex)
        func number() -> Substring? {
            let start = position
            while position < bytes.endIndex, (0x30...0x39).contains(bytes[position]) { position = bytes.index(after: position) }
            let digits = text[start..<position]
            guard !digits.isEmpty, !(digits.utf8.first == UInt8(ascii: "0") && digits.utf8.count > 1) else { return nil }
            return digits
        }
        func take(_ byte: UInt8) -> Bool {
            guard position < bytes.endIndex, bytes[position] == byte else { return false }
            position = bytes.index(after: position)
            return true
        }
        guard let major = number() else { return nil }
        if position == bytes.endIndex {
            return SemanticVersion(text: text, major: major, minor: "0", patch: "0", isShorthand: true, prerelease: "", build: "")
        }
        guard take(UInt8(ascii: ".")), let minor = number() else { return nil }
        if position == bytes.endIndex {
            return SemanticVersion(text: text, major: major, minor: minor, patch: "0", isShorthand: true, prerelease: "", build: "")
        }
        guard take(UInt8(ascii: ".")), let patch = number() else { return nil }
        var prerelease: Substring = ""
        var build: Substring = ""
        if position < bytes.endIndex, bytes[position] == UInt8(ascii: "-") {
            let end = bytes[position...].firstIndex(of: UInt8(ascii: "+")) ?? bytes.endIndex
            prerelease = text[position..<end]
            guard identifiers(prerelease.utf8.dropFirst(), rejectLeadingZeros: true) else { return nil }
            position = end
        }
        if position < bytes.endIndex, bytes[position] == UInt8(ascii: "+") {
            build = text[position...]
            guard identifiers(build.utf8.dropFirst(), rejectLeadingZeros: false) else { return nil }
            position = bytes.endIndex
        }
        guard position == bytes.endIndex else { return nil }
        return SemanticVersion(
            text: text, major: major, minor: minor, patch: patch, isShorthand: false, prerelease: prerelease, build: build)
    }

    private static func identifiers(_ text: Substring.UTF8View.SubSequence, rejectLeadingZeros: Bool) -> Bool {
        let parts = text.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return parts.allSatisfy { part in
            let isAlphanumeric: (UInt8) -> Bool = {
                (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == UInt8(ascii: "-")
            }
            guard !part.isEmpty, part.allSatisfy(isAlphanumeric) else { return false }
            // A numeric identifier may not have leading zeros.
            let numeric = part.allSatisfy { (0x30...0x39).contains($0) }
            return !(rejectLeadingZeros && numeric && part.count > 1 && part.first == UInt8(ascii: "0"))
        }
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
