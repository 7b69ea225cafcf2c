import ArgumentParser
import Foundation
import AgentServer
import GoedgeConfiguration
import ModulePolicy
import ModuleProxy

/// `goedge policy check m@v…`: what the module policy decides, and why.
struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Ask what the module policy decides.",
        subcommands: [Check.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Say whether each MODULE@VERSION may be fetched, and why not.",
            discussion: """
                Asks the running agent, which judges as it judges requests: the release-age \
                cooldown included, saying who dated each version (the checksum database's log, \
                the first time goedge saw it, or its publisher before goedge's first view of the \
                log). When no agent answers, or with --policy-file, reads the policy file itself \
                (policy-file, or --policy-file) and leaves the cooldown out, saying so. A MODULE \
                without @VERSION asks about the module as a whole (its version list). Exits 0 \
                when everything named is allowed, 1 when something is denied, 78 when the policy \
                file has mistakes.
                """
        )

        @OptionGroup var configurationFile: ConfigurationOptions
        @OptionGroup var client: ClientOptions

        @Option(help: ArgumentHelp("The policy file to read instead of the configured one.", valueName: "file"))
        var policyFile: String?

        @Flag(help: "One JSON object per line: module, version, allowed, reason.")
        var json = false

        @Argument(help: ArgumentHelp("Modules to ask about, as MODULE@VERSION or MODULE.", valueName: "module@version"))
        var modules: [String]

        func validate() throws {
            if modules.isEmpty { throw ValidationError("name at least one MODULE@VERSION") }
        }

        func run() async throws {
            let layers = try configurationFile.load(options: client.given)
            if policyFile == nil, let verdicts = await askTheAgent(layers) {
                var denied = false
                for (argument, verdict) in verdicts {
                    if !verdict.allowed { denied = true }
                    try report(argument, allowed: verdict.allowed, reason: verdict.reason, warning: verdict.warning, datedBy: verdict.datedBy)
                }
                if denied { throw ExitCode(1) }
                return
            }
            let configured = PolicyFile.paths(layers: layers, home: ProcessInfo.processInfo.environment["HOME"] ?? "/")
            let file = policyFile ?? configured.file
            guard file != nil || configured.vulndb != nil else {
                throw ValidationError("no policy-file (or policy-vulndb) is configured; name one with --policy-file")
            }
            let policy: ModulePolicy
            do {
                policy = try PolicyFile.read(file: file, vulndb: configured.vulndb)
            } catch {
                throw ConfigurationProblems(error: error).exit()
            }
            var denied = false
            for argument in modules {
                let (module, version) = Self.split(argument)
                let decision = version.map { policy.decide(module: module, version: $0) } ?? policy.decide(module: module)
                if decision.denial != nil { denied = true }
                var warning: String?
                if case .warned(let warned) = decision { warning = warned.reason }
                let unchecked = version != nil && decision.denial == nil && policy.needsReleaseTime(module: module)
                try report(
                    argument, allowed: decision.denial == nil, reason: decision.denial?.reason, warning: warning,
                    datedBy: unchecked ? "not dated: min-release-age is judged by the running agent, and none answers" : nil)
            }
            if denied { throw ExitCode(1) }
        }

        private static func split(_ argument: String) -> (module: String, version: String?) {
            let parts = argument.split(separator: "@", maxSplits: 1).map(String.init)
            return (parts[0], parts.count == 2 ? parts[1] : nil)
        }

        /// The running agent's verdicts, or nil when none answers.
        private func askTheAgent(_ layers: ConfigurationLayers) async -> [(String, PolicyVerdict)]? {
            let agent = ClientOptions.agentClient(layers)
            defer { agent.shutdown() }
            var verdicts: [(String, PolicyVerdict)] = []
            for argument in modules {
                let (module, version) = Self.split(argument)
                guard let body = try? JSONEncoder().encode(ControlMessages.PolicyCheck(module: module, version: version)),
                    let answer = try? await agent.call("/-/api/policy/check", body: Array(body)), answer.status == 200,
                    let verdict = try? JSONDecoder().decode(PolicyVerdict.self, from: Data(answer.body))
                else { return nil }
                verdicts.append((argument, verdict))
            }
            return verdicts
        }

        private func report(_ argument: String, allowed: Bool, reason: String?, warning: String?, datedBy: String?) throws {
            let (module, version) = Self.split(argument)
            if json {
                var object: [String: Any] = ["module": module, "allowed": allowed]
                if let version { object["version"] = version }
                if let reason { object["reason"] = reason }
                if let warning { object["warning"] = warning }
                if let datedBy { object["datedBy"] = datedBy }
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else if !allowed {
                print(PolicyDenial(module: module, version: version, reason: reason ?? "denied"))
            } else {
                let dated = datedBy.map { " (min-release-age: dated by \($0))" } ?? ""
                if let warning {
                    print("goedge policy: \(argument) allowed, with a warning: \(warning)\(dated)")
                } else {
                    print("goedge policy: \(argument) allowed\(dated)")
                }
            }
        }
    }
}
