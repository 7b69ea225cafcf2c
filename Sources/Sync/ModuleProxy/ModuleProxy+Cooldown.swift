import GoModules
import ModulePolicy
import Upstream

/// The release-age cooldown (`min-release-age`): a version published less
/// than that long ago is not offered, as a denied one is not. Versions are
/// dated by someone other than their publisher (``ReleaseDating``), before
/// any of their files is fetched; a version that cannot be dated counts as
/// too new.
extension ModuleProxy {
    /// Versions' times looked up at once for one version list.
    static let releaseTimeLookups = 16
    /// Of a version list, the highest this many versions have their times
    /// looked up. The list is filtered so that `@latest` and `-u`, which
    /// take the highest allowed version, skip what is too new; a lower
    /// version left in it is still refused when its files are asked for.
    /// This bounds the work one list costs, however long an upstream makes it.
    static let releaseTimesCheckedPerList = 64

    /// Whether the cooldown applies to what `resource` names (then the
    /// answer takes the asynchronous path, where times can be fetched).
    func cooldownApplies(to resource: ProxyResource, _ policy: ModulePolicy) -> Bool {
        guard let module = resource.module else { return false }
        return policy.needsReleaseTime(module: module.path)
    }

    /// Before fetching a `.mod` or `.zip`: its version's time, from its `.info`.
    func cooldownRefusalBeforeFetching(_ resource: ProxyResource, _ policy: ModulePolicy) async -> ProxyAnswer? {
        switch resource {
        case .mod(let module, let version), .zip(let module, let version):
            guard policy.needsReleaseTime(module: module.path) else { return nil }
            let date = await releaseDate(module, version.text)
            return policy.cooldown(module: module.path, version: version.text, date: date, now: clock.now()).map { refused($0) }
        default:
            return nil
        }
    }

    /// After an answer: a canonical `.info`, `@latest` or a query checked by
    /// the time it carries; a list without the versions too new.
    func applyingCooldown(_ policy: ModulePolicy, to answer: ProxyAnswer, for resource: ProxyResource) async -> ProxyAnswer {
        guard answer.status == 200, cooldownApplies(to: resource, policy), let module = resource.module else { return answer }
        switch resource {
        case .info, .latest:
            guard let bytes = answer.bodyBytes else { return answer }
            let version: String
            if case .info(_, let asked) = resource, asked.isCanonical {
                version = asked.text
            } else {
                guard let resolved = Self.resolvedVersion(bytes) else { return answer }
                version = resolved
            }
            let date = await releaseDate(module, version)
            guard let denial = policy.cooldown(module: module.path, version: version, date: date, now: clock.now()) else {
                return answer
            }
            return refused(denial)
        case .list:
            guard let lines = Self.listLines(answer) else { return answer }
            let versions = Self.versionsToCheck(lines.map(Self.version(ofLine:)))
            let now = clock.now()
            let tooNew = await withTaskGroup(of: String?.self) { group in
                // A few lookups at a time: a module may list hundreds of versions.
                var pending = versions.makeIterator()
                func lookUpNext() {
                    guard let version = pending.next() else { return }
                    group.addTask { [self] in
                        let date = await releaseDate(module, version)
                        return policy.cooldown(module: module.path, version: version, date: date, now: now) == nil ? nil : version
                    }
                }
                for _ in 0..<Self.releaseTimeLookups { lookUpNext() }
                var found: Set<String> = []
                for await version in group {
                    if let version { found.insert(version) }
                    lookUpNext()
                }
                return found
            }
            guard !tooNew.isEmpty else { return answer }
            return Self.keeping(lines.filter { !tooNew.contains(Self.version(ofLine: $0)) }, of: answer)
        default:
            return answer
        }
    }

    /// The versions of a list whose dates are checked: the highest, up to
    /// ``releaseTimesCheckedPerList`` (what `@latest` and `-u` take).
    static func versionsToCheck(_ versions: [String]) -> [String] {
        versions.compactMap(SemanticVersion.init).sorted(by: >).prefix(releaseTimesCheckedPerList).map(\.text)
    }
}

extension ProxyResource {
    /// The module a module request names; nil for checksum database requests.
    var module: ModulePath? {
        switch self {
        case .list(let module), .latest(let module), .info(let module, _), .mod(let module, _), .zip(let module, _): module
        case .sumdb: nil
        }
    }
}

/// What the policy in force decides for one version, the cooldown included,
/// and who dated it: `goedge policy check` asks the agent for this.
public struct PolicyVerdict: Sendable, Codable, Equatable {
    public var allowed: Bool
    public var reason: String?
    public var warning: String?
    /// Who dated the version for the cooldown, when it applies.
    public var datedBy: String?
}

extension ModuleProxy {
    public func policyVerdict(module: String, version: String?) async -> PolicyVerdict {
        let policy = self.policy.policy
        let decision = version.map { policy.decide(module: module, version: $0) } ?? policy.decide(module: module)
        var verdict = PolicyVerdict(allowed: decision.denial == nil, reason: decision.denial?.reason)
        if case .warned(let warning) = decision { verdict.warning = warning.reason }
        guard verdict.allowed, let version, policy.needsReleaseTime(module: module), let path = try? ModulePath(module) else {
            return verdict
        }
        let date = await releaseDate(path, version)
        verdict.datedBy = date.source
        if let denial = policy.cooldown(module: module, version: version, date: date, now: clock.now()) {
            verdict.allowed = false
            verdict.reason = denial.reason
        }
        return verdict
    }
}
