import GoModules

/// What may be fetched: `deny` rules, and an optional allow list. A
/// version a `deny` rule matches is denied, even inside an `allow`; when
/// there are `allow` rules, a module none of them matches is denied.
///
/// Pure and immutable: the agent holds the current one (``PolicyHolder``)
/// and swaps it whole on reload.
public struct ModulePolicy: Sendable, Equatable {
    public struct Rule: Sendable, Equatable {
        public let module: ModulePattern
        /// Nil: every version.
        public let versions: VersionRange?
        public let reason: String?
        /// Where the rule is written, for messages.
        public let line: Int

        public init(module: ModulePattern, versions: VersionRange? = nil, reason: String? = nil, line: Int = 0) {
            self.module = module
            self.versions = versions
            self.reason = reason
            self.line = line
        }

        func matches(module path: String, version: SemanticVersion?) -> Bool {
            guard module.matches(path) else { return false }
            guard let versions else { return true }
            guard let version else { return false }
            return versions.contains(version)
        }
    }

    /// What to do with a version the vulnerability database lists.
    public enum VulnerabilityAction: String, Sendable, Equatable, CaseIterable {
        /// Not offered, as a `deny` rule.
        case deny
        /// Served, with a `Warning` header, a log line and a metric.
        case warn
    }

    public let deny: [Rule]
    public let allow: [Rule]
    public let vulnerabilities: VulnerabilityDatabase?
    public let vulnerabilityAction: VulnerabilityAction
    /// A version published less than this long ago is not offered (`min-release-age`).
    public let minimumReleaseAge: Duration?
    /// How the age was written, for messages (`7d`).
    public let minimumReleaseAgeText: String
    /// Modules the release age does not apply to (the company's own, say).
    public let cooldownExempt: [ModulePattern]

    public init(
        deny: [Rule] = [], allow: [Rule] = [], vulnerabilities: VulnerabilityDatabase? = nil,
        vulnerabilityAction: VulnerabilityAction = .deny, minimumReleaseAge: Duration? = nil, minimumReleaseAgeText: String = "",
        cooldownExempt: [ModulePattern] = []
    ) {
        self.deny = deny
        self.allow = allow
        self.vulnerabilities = vulnerabilities
        self.vulnerabilityAction = vulnerabilityAction
        self.minimumReleaseAge = minimumReleaseAge
        self.minimumReleaseAgeText = minimumReleaseAgeText
        self.cooldownExempt = cooldownExempt
    }

    /// No rules: everything is allowed.
    public static let open = ModulePolicy()

    public var isOpen: Bool { deny.isEmpty && allow.isEmpty && vulnerabilities == nil && minimumReleaseAge == nil }

    /// Whether a version of `module` must be old enough: its release time is then needed.
    public func needsReleaseTime(module: String) -> Bool {
        minimumReleaseAge != nil && !cooldownExempt.contains { $0.matches(module) }
    }

    /// The refusal of a version too new to offer, or whose date is unknown
    /// (fail closed); nil when it is old enough or the module is exempt.
    /// Times are nanoseconds since the epoch.
    public func cooldown(module: String, version: String, date: ReleaseDate, now: Int64) -> PolicyDenial? {
        guard let age = minimumReleaseAge, needsReleaseTime(module: module) else { return nil }
        guard let published = date.latest else {
            return PolicyDenial(
                module: module, version: version,
                reason: "\(date.source); with min-release-age \(minimumReleaseAgeText) it counts as too new")
        }
        let (seconds, attoseconds) = age.components
        let ageNanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let limit = ageNanoseconds.overflow ? Int64.max : ageNanoseconds.partialValue &+ attoseconds / 1_000_000_000
        guard now.subtractingReportingOverflow(published).partialValue < limit else { return nil }
        return PolicyDenial(
            module: module, version: version,
            reason: "released less than \(minimumReleaseAgeText) ago (min-release-age), dated by \(date.source)")
    }

    /// The decision for one version of a module.
    public func decide(module: String, version: String) -> PolicyDecision {
        let semantic = SemanticVersion(version)
        if let rule = deny.first(where: { $0.matches(module: module, version: semantic) }) {
            return .denied(PolicyDenial(module: module, version: version, reason: rule.reason ?? "denied by the policy (line \(rule.line))"))
        }
        if !allow.isEmpty && !allow.contains(where: { $0.matches(module: module, version: semantic) }) {
            let listed = allow.contains { $0.module.matches(module) }
            return .denied(
                PolicyDenial(
                    module: module, version: version,
                    reason: listed ? "this version is not on the allow list" : "the module is not on the allow list"))
        }
        if let vulnerabilities, let semantic {
            let findings = vulnerabilities.findings(module: module, version: semantic)
            if !findings.isEmpty {
                let reason = findings.map(\.description).joined(separator: ", ")
                switch vulnerabilityAction {
                case .deny: return .denied(PolicyDenial(module: module, version: version, reason: reason))
                case .warn: return .warned(PolicyDenial(module: module, version: version, reason: reason))
                }
            }
        }
        return .allowed
    }

    /// The decision for a module as a whole (its version list, `@latest`):
    /// denied when no version of it could be allowed.
    public func decide(module: String) -> PolicyDecision {
        if let rule = deny.first(where: { $0.versions == nil && $0.module.matches(module) }) {
            return .denied(PolicyDenial(module: module, version: nil, reason: rule.reason ?? "denied by the policy (line \(rule.line))"))
        }
        if !allow.isEmpty && !allow.contains(where: { $0.module.matches(module) }) {
            return .denied(PolicyDenial(module: module, version: nil, reason: "the module is not on the allow list"))
        }
        return .allowed
    }
}

public enum PolicyDecision: Sendable, Equatable {
    case allowed
    case denied(PolicyDenial)
    /// Allowed, but known to be vulnerable (`vuln-action = "warn"`).
    case warned(PolicyDenial)

    public var denial: PolicyDenial? {
        if case .denied(let denial) = self { denial } else { nil }
    }
}

/// Why a module or version may not be fetched (or is served with a warning).
public struct PolicyDenial: Sendable, Equatable, CustomStringConvertible {
    public let module: String
    public let version: String?
    public let reason: String

    public init(module: String, version: String?, reason: String) {
        self.module = module
        self.version = version
        self.reason = reason
    }

    /// The one line a client is answered (the go command prints it).
    public var description: String {
        "goedge policy: \(module)\(version.map { "@" + $0 } ?? "") denied: \(reason)"
    }
}
