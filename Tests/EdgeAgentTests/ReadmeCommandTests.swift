import Foundation
import Testing
import TestSupport

extension Integration {
    /// Every `goedge …` command the README shows, run as written (in a
    /// sandbox: its own HOME, an agent of the test's, the README's example
    /// addresses pointed at it), must work: a newcomer copies them.
    @Suite struct ReadmeCommands {
        /// The `goedge` lines of the shell blocks of the README and the docs, without their comments.
        static func commands() throws -> [String] {
            let docs = (try FileManager.default.contentsOfDirectory(atPath: Paths.packageRoot + "/docs")).filter { $0.hasSuffix(".md") }
            let pages = ["README.md"] + docs.sorted().map { "docs/" + $0 }
            let text = try pages.map { try String(contentsOfFile: Paths.packageRoot + "/" + $0, encoding: .utf8) }.joined(separator: "\n")
            var commands: [String] = []
            var inShell = false
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("```") {
                    inShell = line == "```sh"
                    continue
                }
                guard inShell, line.hasPrefix("goedge ") else { continue }
                let command = line.components(separatedBy: "  #").first!.trimmingCharacters(in: .whitespaces)
                commands.append(command)
            }
            return commands
        }

        @Test func everyGoedgeCommandInTheReadmeWorksAsWritten() throws {
            let commands = try Self.commands()
            #expect(commands.count >= 8, "\(commands)")
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
            #expect(try agent.get("/example.com/quote/@v/v1.5.2.zip").status == 200)
            let home = TemporaryDirectory()
            // A checkout to prefetch, and a GOMODCACHE to import, as the README's commands expect.
            let workspace = try Prefetch.workspace(upstream: upstream, tidy: true)
            let downloaded = try GoCommand(proxy: upstream.url, home: home.path).run(["mod", "download"], in: workspace.path)
            #expect(downloaded.status == 0, "\(downloaded)")
            try FileManager.default.createDirectory(atPath: home.path + "/go/pkg", withIntermediateDirectories: true)
            try FileManager.default.moveItem(atPath: home.path + "/gopath/pkg/mod", toPath: home.path + "/go/pkg/mod")
            let bin = TemporaryDirectory()
            try FileManager.default.createSymbolicLink(atPath: bin.path + "/goedge", withDestinationPath: Paths.goedge)
            let environment = [
                "PATH": bin.path + ":/usr/bin:/bin", "HOME": home.path, "GOEDGE_AGENT": agent.url,
                "GOEDGE_LISTEN": "127.0.0.1:0", "GOEDGE_UPSTREAM": upstream.url, "XDG_CONFIG_HOME": home.path + "/.config",
                // The agent's folder is the user's own, as with the user service's default (its control token is read there).
                "GOEDGE_CACHE_DIR": cache.path,
            ]
            for written in commands {
                // The README's examples, pointed at this sandbox: its agent, a module it has cached.
                let command = written.replacingOccurrences(of: "http://172.17.0.1:7179", with: agent.url)
                    .replacingOccurrences(of: "github.com/some/module@v1.2.3", with: "example.com/quote@v1.5.2")
                if command.hasSuffix("&") {
                    // A background agent: it starts and listens, and stops cleanly.
                    let line = String(command.dropLast()).trimmingCharacters(in: .whitespaces)
                    let started = try ChildProcess("/bin/bash", ["-c", "exec " + line], environment: environment, directory: workspace.path)
                    _ = try started.waitForLine(containing: "listening", inErrorOutput: true)
                    started.signal(SIGTERM)
                    #expect(started.waitForExit() == 0, "\(written)\n\(started.errorOutput)")
                    continue
                }
                let result = try ChildProcess.run("/bin/bash", ["-c", command], environment: environment, directory: workspace.path)
                #expect(result.status == 0, "\(written)\n\(result)")
            }
            #expect(agent.terminate() == 0)
        }
    }
}
