import Foundation
import Testing
import TestSupport

@testable import AgentServer
@testable import goedge
@testable import GoedgeConfiguration

/// The man pages stay true to the code: every option of every command is in
/// goedge(1), every configuration key in goedge.toml(5), and both render
/// without warnings.
@Suite struct ManPageTests {
    static let pages = Paths.packageRoot + "/man"

    static func page(_ name: String) throws -> String {
        try String(contentsOfFile: pages + "/" + name, encoding: .utf8)
    }

    /// Every long option of every command, from the command line parser itself.
    static func options() throws -> [String: Set<String>] {
        let dump = try ChildProcess.run(Paths.goedge, ["--experimental-dump-help"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(dump.output.utf8)) as? [String: Any])
        var found: [String: Set<String>] = [:]
        func walk(_ command: [String: Any], _ path: String) {
            for argument in command["arguments"] as? [[String: Any]] ?? [] {
                for name in argument["names"] as? [[String: Any]] ?? [] where name["kind"] as? String == "long" {
                    found[path, default: []].insert("--" + (name["name"] as? String ?? ""))
                }
            }
            for sub in command["subcommands"] as? [[String: Any]] ?? [] {
                walk(sub, path + " " + (sub["commandName"] as? String ?? ""))
            }
        }
        walk(try #require(json["command"] as? [String: Any]), "goedge")
        return found
    }

    @Test func goedge1DescribesEveryCommandAndOption() throws {
        let text = try Self.page("goedge.1").replacingOccurrences(of: "\\-", with: "-")
        let all = try Self.options()
        #expect(all.keys.contains("goedge serve"))
        for (command, options) in all {
            let name = command.split(separator: " ").dropFirst().first.map(String.init)
            if let name, name != "help" {
                #expect(text.contains(".B \(name)"), "goedge(1) does not describe \(command)")
            }
            for option in options {
                #expect(text.contains(option), "goedge(1) lacks \(option) of \(command)")
            }
        }
    }

    @Test func goedgeTomlDescribesEveryKey() throws {
        let text = try Self.page("goedge.toml.5").replacingOccurrences(of: "\\-", with: "-")
        for setting in Settings.all {
            #expect(text.contains(".B \(setting.name)\n"), "goedge.toml(5) lacks the key \(setting.name)")
        }
    }

    @Test(.enabled(if: which("groff") != nil && which("man") != nil, "needs groff and man"))
    func theyRenderWithoutWarnings() throws {
        for name in ["goedge.1", "goedge.toml.5", "goedge-policy.5"] {
            let groff = try ChildProcess.run(which("groff")!, ["-man", "-ww", "-z", Self.pages + "/" + name])
            #expect(groff.status == 0 && groff.errorOutput.isEmpty, "\(name): \(groff.errorOutput)")
            let man = try ChildProcess.run(
                which("man")!, ["--warnings", "-l", Self.pages + "/" + name],
                environment: ["PATH": "/usr/bin:/bin", "MANWIDTH": "80", "LC_ALL": "C.UTF-8", "MANPAGER": "cat", "PAGER": "cat"])
            #expect(man.status == 0 && man.errorOutput.isEmpty, "\(name): \(man.errorOutput)")
            #expect(man.output.contains("NAME"))
        }
    }
}
