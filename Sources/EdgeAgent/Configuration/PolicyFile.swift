import Foundation
import ModulePolicy
import AgentServer

/// Reads a policy file (goedge-policy(5)): `vulndb` (a local copy of the Go
/// vulnerability database) and `vuln-action`, then `[[deny]]` and
/// `[[allow]]` tables, each naming a `module` pattern, optionally `versions`
/// and a `reason`. Every problem is reported with the file and the line, and a
/// file with any problem is refused whole (the agent then keeps the policy
/// it has).
package enum PolicyFile {
    package static func read(_ path: String) throws(ConfigurationError) -> ModulePolicy {
        try parse(try SettingsFileText.read(path, setting: "policy-file"), path: path)
    }

    /// The policy in force: the policy file's (if one is named), with the
    /// vulnerability database `policy-vulndb` names (if one is). Naming a
    /// database in both places is a mistake: which one would count?
    package static func read(file: String?, vulndb: String?) throws(ConfigurationError) -> ModulePolicy {
        var policy = ModulePolicy.open
        if let file { policy = try read(file) }
        guard let vulndb else { return policy }
        guard policy.vulnerabilities == nil else {
            throw ConfigurationError([
                "policy-vulndb = \"\(vulndb)\" and the policy file's vulndb both name a vulnerability database: keep one"
            ])
        }
        let database: VulnerabilityDatabase
        do {
            database = try VulnerabilityDatabase.load(folder: vulndb)
        } catch {
            throw ConfigurationError(["policy-vulndb: \(error)"])
        }
        return ModulePolicy(
            deny: policy.deny, allow: policy.allow, vulnerabilities: database, vulnerabilityAction: policy.vulnerabilityAction,
            minimumReleaseAge: policy.minimumReleaseAge, minimumReleaseAgeText: policy.minimumReleaseAgeText,
            cooldownExempt: policy.cooldownExempt)
    }

    /// ``read(file:vulndb:)`` for the files the configuration names.
    package static func read(layers: ConfigurationLayers, home: String) throws(ConfigurationError) -> ModulePolicy? {
        let (file, vulndb) = paths(layers: layers, home: home)
        guard file != nil || vulndb != nil else { return nil }
        return try read(file: file, vulndb: vulndb)
    }

    /// `policy-file` and `policy-vulndb`, nil where not set.
    package static func paths(layers: ConfigurationLayers, home: String) -> (file: String?, vulndb: String?) {
        (layers.path(Settings.policyFile, home: home), layers.path(Settings.policyVulndb, home: home))
    }

    package static func parse(_ text: String, path: String) throws(ConfigurationError) -> ModulePolicy {
        let parsed = try SettingsFileText.parseTOML(text, path: path)
        var problems: [(line: Int, text: String)] = []
        var vulnerabilities: VulnerabilityDatabase?
        var vulnerabilityAction = ModulePolicy.VulnerabilityAction.deny
        var minimumReleaseAge: Duration?
        var minimumReleaseAgeText = ""
        var cooldownExempt: [ModulePattern] = []
        for entry in parsed.entries {
            let place = "\(path):\(entry.line): \(entry.key)"
            switch (entry.key, entry.value) {
            case ("vulndb", .string(let folder)):
                // Relative to the policy file's own folder.
                let base = (path as NSString).deletingLastPathComponent
                let resolved = folder.hasPrefix("/") || base.isEmpty ? folder : base + "/" + folder
                do {
                    vulnerabilities = try VulnerabilityDatabase.load(folder: resolved)
                } catch {
                    problems.append((entry.line, "\(place): \(error)"))
                }
            case ("vuln-action", .string(let text)):
                if let action = ModulePolicy.VulnerabilityAction(rawValue: text) {
                    vulnerabilityAction = action
                } else {
                    problems.append((entry.line, "\(place): expected \"deny\" or \"warn\", found \"\(text)\""))
                }
            case ("min-release-age", .string(let text)):
                if let age = DurationText.parse(text), age > .zero {
                    minimumReleaseAge = age
                    minimumReleaseAgeText = text
                } else {
                    problems.append((entry.line, "\(place): expected a duration such as \"7d\" or \"36h\", found \"\(text)\""))
                }
            case ("cooldown-exempt", .array(let items)):
                for item in items {
                    guard case .string(let text) = item, let pattern = ModulePattern(text) else {
                        problems.append((entry.line, "\(place): expected module paths or patterns in quotes (example.com/org/...)"))
                        continue
                    }
                    cooldownExempt.append(pattern)
                }
            case ("vulndb", _), ("vuln-action", _), ("min-release-age", _):
                problems.append((entry.line, "\(place): expected a string in quotes"))
            case ("cooldown-exempt", _):
                problems.append((entry.line, "\(place): expected a list such as [\"example.com/org/...\"]"))
            default:
                problems.append((entry.line, "\(place): unknown key (a policy file holds vulndb, vuln-action, min-release-age, cooldown-exempt, and [[deny]] and [[allow]] rules)"))
            }
        }
        var deny: [ModulePolicy.Rule] = []
        var allow: [ModulePolicy.Rule] = []
        for section in parsed.sections {
            let place = "\(path):\(section.line)"
            guard section.name == "deny" || section.name == "allow" else {
                problems.append((section.line, "\(place): [\(section.name)]: unknown table (expected [[deny]] or [[allow]])"))
                continue
            }
            guard section.isArrayElement else {
                problems.append((section.line, "\(place): write [[\(section.name)]] (one per rule), not [\(section.name)]"))
                continue
            }
            switch rule(section, path: path) {
            case .success(let rule): section.name == "deny" ? deny.append(rule) : allow.append(rule)
            case .failure(let found): problems += found
            }
        }
        if !problems.isEmpty { throw ConfigurationError(problems.sorted { $0.line < $1.line }.map(\.text)) }
        return ModulePolicy(
            deny: deny, allow: allow, vulnerabilities: vulnerabilities, vulnerabilityAction: vulnerabilityAction,
            minimumReleaseAge: minimumReleaseAge, minimumReleaseAgeText: minimumReleaseAgeText, cooldownExempt: cooldownExempt)
    }

    private enum RuleResult {
        case success(ModulePolicy.Rule)
        case failure([(line: Int, text: String)])
    }

    private static func rule(_ section: FlatTOML.Section, path: String) -> RuleResult {
        var problems: [(line: Int, text: String)] = []
        var module: ModulePattern?
        var versions: VersionRange?
        var reason: String?
        for entry in section.entries {
            let place = "\(path):\(entry.line): \(entry.key)"
            guard case .string(let value) = entry.value else {
                problems.append((entry.line, "\(place): expected a string in quotes"))
                continue
            }
            switch entry.key {
            case "module":
                module = ModulePattern(value)
                if module == nil {
                    problems.append((entry.line, "\(place): \"\(value)\" is not a module path or pattern (example.com/m, example.com/org/..., ...)"))
                }
            case "versions":
                do {
                    versions = try VersionRange(value)
                } catch {
                    problems.append((entry.line, "\(place): \(error) (write e.g. \"< v1.4.2\" or \">= v2.0.0, < v2.3.1\")"))
                }
            case "reason":
                reason = value
            default:
                problems.append((entry.line, "\(place): unknown key in [[\(section.name)]] (module, versions, reason)"))
            }
        }
        if module == nil && !section.entries.contains(where: { $0.key == "module" }) {
            problems.append((section.line, "\(path):\(section.line): [[\(section.name)]] needs module = \"…\""))
        }
        guard problems.isEmpty, let module else { return .failure(problems) }
        return .success(ModulePolicy.Rule(module: module, versions: versions, reason: reason, line: section.line))
    }
}
