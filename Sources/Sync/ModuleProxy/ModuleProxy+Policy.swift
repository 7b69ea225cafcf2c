import Foundation
import GoModules
import ModulePolicy

/// The module policy, applied so that the go command chooses well rather
/// than fails: a denied version disappears from `@v/list` (so `@latest`,
/// `-u` and queries resolved from the list pick the newest allowed one), a
/// version resolved by the upstream (`@latest`, a query's `.info`) that is
/// denied is refused, and the files of a denied version are refused with
/// one line the go command prints. Files already cached stay where they
/// are; they are just not served.
extension ModuleProxy {
    /// The refusal for a request decided before anything is looked up: a
    /// version's files, or anything of a module denied as a whole.
    func refusal(for resource: ProxyResource, by policy: ModulePolicy) -> ProxyAnswer? {
        guard !policy.isOpen else { return nil }
        switch resource {
        case .list(let module), .latest(let module):
            return policy.decide(module: module.path).denial.map { refused($0) }
        case .info(let module, let version) where !version.isCanonical:
            return policy.decide(module: module.path).denial.map { refused($0) }
        case .info(let module, let version), .mod(let module, let version), .zip(let module, let version):
            return policy.decide(module: module.path, version: version.text).denial.map { refused($0) }
        case .sumdb:
            return nil
        }
    }

    /// `answer` as the policy lets a client see it.
    func applying(_ policy: ModulePolicy, to answer: ProxyAnswer, for resource: ProxyResource) -> ProxyAnswer {
        guard !policy.isOpen, answer.status == 200 else { return answer }
        switch resource {
        case .info(let module, let version) where version.isCanonical, .mod(let module, let version), .zip(let module, let version):
            guard case .warned(let warning) = policy.decide(module: module.path, version: version.text) else { return answer }
            vulnerableServed.increment()
            logger.notice(
                "served a version with a known vulnerability",
                metadata: ["module": "\(module.path)", "version": "\(version.text)", "vulnerability": "\(warning.reason)"])
            var warned = answer
            // RFC 9111's 299 "miscellaneous persistent warning", quoted text without quotes inside.
            warned.warning = "299 goedge \"\(warning.reason.replacingOccurrences(of: "\"", with: "'"))\""
            return warned
        case .list(let module):
            guard let lines = Self.listLines(answer) else { return answer }
            return Self.keeping(lines.filter { policy.decide(module: module.path, version: Self.version(ofLine: $0)).denial == nil }, of: answer)
        case .latest(let module), .info(let module, _):
            guard let bytes = answer.bodyBytes, let version = Self.resolvedVersion(bytes),
                let denial = policy.decide(module: module.path, version: version).denial
            else { return answer }
            return refused(denial)
        default:
            return answer
        }
    }

    func refused(_ denial: PolicyDenial) -> ProxyAnswer {
        ProxyAnswer(
            status: 403, reason: "Forbidden", contentType: "text/plain; charset=utf-8", body: .bytes(Array("\(denial)\n".utf8)),
            cacheStatus: .denied)
    }

    /// The lines of a `list` answer, blank ones left out.
    static func listLines(_ answer: ProxyAnswer) -> [Substring]? {
        guard let bytes = answer.bodyBytes, let text = String(validating: bytes, as: UTF8.self) else { return nil }
        return text.split(separator: "\n")
    }

    /// The version a list line names: its first field.
    static func version(ofLine line: Substring) -> String {
        String(line.split(separator: " ").first ?? "")
    }

    /// `answer`, a list, with only `lines`.
    static func keeping(_ lines: [Substring], of answer: ProxyAnswer) -> ProxyAnswer {
        var filtered = answer
        filtered.body = .bytes(Array(lines.map { $0 + "\n" }.joined().utf8))
        return filtered
    }

    /// The `Version` of an `.info` or `@latest` answer.
    static func resolvedVersion(_ bytes: [UInt8]) -> String? {
        struct Info: Decodable {
            // swift-format-ignore: AlwaysUseLowerCamelCase
            let Version: String
        }
        return (try? JSONDecoder().decode(Info.self, from: Data(bytes)))?.Version
    }
}
