import GoModules

/// The versions a rule names: comparisons joined by commas, all of which
/// must hold (`< v1.4.2`, `>= v2.0.0, < v2.3.1`), or one exact version
/// (`v1.2.3`, `= v1.2.3`). Versions compare by semantic version precedence,
/// pseudo-versions included (they sort as prereleases of their base).
public struct VersionRange: Sendable, Equatable, CustomStringConvertible {
    public enum Comparison: String, Sendable, CaseIterable {
        case lessOrEqual = "<="
        case greaterOrEqual = ">="
        case less = "<"
        case greater = ">"
        case equal = "="
    }

    public struct Bound: Sendable, Equatable {
        public let comparison: Comparison
        public let version: SemanticVersion

        func holds(for candidate: SemanticVersion) -> Bool {
            let order = SemanticVersion.compare(candidate, version)
            switch comparison {
            case .less: return order < 0
            case .lessOrEqual: return order <= 0
            case .greater: return order > 0
            case .greaterOrEqual: return order >= 0
            case .equal: return order == 0
            }
        }
    }

    public let bounds: [Bound]
    public let text: String

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    public init(_ text: String) throws(ParseError) {
        var bounds: [Bound] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            var rest = Substring(String(part).trimmingCharacters(" \t"))
            guard !rest.isEmpty else { throw ParseError(description: "\"\(text)\": an empty comparison") }
            var comparison = Comparison.equal
            for candidate in Comparison.allCases where rest.hasPrefix(candidate.rawValue) {
                comparison = candidate
                rest = rest.dropFirst(candidate.rawValue.count)
                break
            }
            let versionText = String(rest).trimmingCharacters(" \t")
            guard let version = SemanticVersion(versionText) else {
                throw ParseError(description: "\"\(text)\": \"\(versionText)\" is not a semantic version such as v1.2.3")
            }
            bounds.append(Bound(comparison: comparison, version: version))
        }
        self.bounds = bounds
        self.text = text.trimmingCharacters(" \t")
    }

    public func contains(_ version: SemanticVersion) -> Bool {
        bounds.allSatisfy { $0.holds(for: version) }
    }

    public var description: String { text }
}
