import ArgumentParser
import Foundation
import AgentServer
import GoedgeConfiguration
import ModulePolicy

/// `goedge policy check m@v…`: what the module policy decides, and why.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Ask what the module policy decides.",
        subcommands: [Check.self]
    )

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Say whether each MODULE@VERSION may be fetched, and why not.",
            discussion: """
                Reads the policy file the configuration names (policy-file), or --policy-file. \
                A MODULE without @VERSION asks about the module as a whole (its version list). \
                Exits 0 when everything named is allowed, 1 when something is denied, 78 when \
                the policy file has mistakes.
                """
        )

        @OptionGroup var configurationFile: ConfigurationOptions

        @Option(help: ArgumentHelp("The policy file to read instead of the configured one.", valueName: "file"))
        var policyFile: String?

        @Flag(help: "One JSON object per line: module, version, allowed, reason.")
        var json = false

        @Argument(help: ArgumentHelp("Modules to ask about, as MODULE@VERSION or MODULE.", valueName: "module@version"))
        var modules: [String]

        func validate() throws {
            if modules.isEmpty { throw ValidationError("name at least one MODULE@VERSION") }
        }

        func run() throws {
            let layers = try configurationFile.load(options: [:])
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
                let parts = argument.split(separator: "@", maxSplits: 1).map(String.init)
                let module = parts[0]
                let version = parts.count == 2 ? parts[1] : nil
                let decision = version.map { policy.decide(module: module, version: $0) } ?? policy.decide(module: module)
                if decision.denial != nil { denied = true }
                if json {
                    var object: [String: Any] = ["module": module, "allowed": decision.denial == nil]
                    if let version { object["version"] = version }
                    if let denial = decision.denial { object["reason"] = denial.reason }
                    if case .warned(let warning) = decision { object["warning"] = warning.reason }
                    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                    print(String(decoding: data, as: UTF8.self))
                } else if let denial = decision.denial {
                    print(denial)
                } else if case .warned(let warning) = decision {
                    print("goedge policy: \(argument) allowed, with a warning: \(warning.reason)")
                } else {
                    print("goedge policy: \(argument) allowed")
                }
            }
            if denied { throw ExitCode(1) }
        }
    }
}
