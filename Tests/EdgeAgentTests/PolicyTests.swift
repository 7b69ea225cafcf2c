import Foundation
import GoedgeConfiguration
import ModulePolicy
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The policy file as goedge reads it: every mistake with its line.
@Suite struct PolicyFileTests {
    @Test func rulesAreReadWithTheirLines() throws {
        let policy = try PolicyFile.parse(
            """
            # Reviewed modules only.
            [[allow]]
            module = "example.com/..."

            [[deny]]
            module = "example.com/hello"
            versions = ">= v1.3.0"
            reason = "GO-2099-0001 (broken)"
            """, path: "policy.toml")
        #expect(policy.allow.map(\.module.text) == ["example.com/..."])
        #expect(policy.deny.first?.versions?.text == ">= v1.3.0")
        #expect(policy.deny.first?.line == 5)
        #expect(policy.decide(module: "example.com/hello", version: "v1.3.0").denial?.reason == "GO-2099-0001 (broken)")
    }

    @Test func everyMistakeIsReportedWithItsLine() {
        #expect {
            try PolicyFile.parse(
                """
                min-age = "7d"
                [deny]
                [[deny]]
                versions = "< 1.4"
                [[allow]]
                module = "example.com/m"
                colour = "red"
                [[other]]
                """, path: "p.toml")
        } throws: { error in
            let problems = (error as? ConfigurationError)?.problems ?? []
            return problems == [
                "p.toml:1: min-age: unknown key (a policy file holds vulndb, vuln-action, min-release-age, cooldown-exempt, and [[deny]] and [[allow]] rules)",
                "p.toml:2: write [[deny]] (one per rule), not [deny]",
                "p.toml:3: [[deny]] needs module = \"…\"",
                "p.toml:4: versions: \"< 1.4\": \"1.4\" is not a semantic version such as v1.2.3 (write e.g. \"< v1.4.2\" or \">= v2.0.0, < v2.3.1\")",
                "p.toml:7: colour: unknown key in [[allow]] (module, versions, reason)",
                "p.toml:8: [other]: unknown table (expected [[deny]] or [[allow]])",
            ]
        }
    }
}

extension Integration {
    /// The module policy, as builds meet it: the real go command through the
    /// real agent in front of the fixture.
    @Suite struct Policy {
        static let denyHelloFromV130 = """
            [[deny]]
            module = "example.com/hello"
            versions = ">= v1.3.0"
            reason = "GO-2099-0001 (a test advisory)"
            """

        @Test func goGetLatestPicksTheNewestAllowedVersionAndAPinnedDeniedOneFailsWithTheReason() throws {
            let upstream = try GoProxyFixture()
            let workspace = TemporaryDirectory()
            try workspace.write("policy.toml", Self.denyHelloFromV130)
            let agent = try AgentProcess(upstream: upstream.url, arguments: ["--policy-file", workspace.path + "/policy.toml"])
            try workspace.write("app/go.mod", "module example.com/app\n\ngo 1.17\n")
            let go = GoCommand(proxy: agent.url, home: workspace.path + "/home")

            let latest = try go.run(["get", "example.com/hello@latest"], in: workspace.path + "/app")
            #expect(latest.status == 0, "\(latest)")
            let goMod = try String(contentsOfFile: workspace.path + "/app/go.mod", encoding: .utf8)
            #expect(goMod.contains("example.com/hello v1.2.0"), "\(goMod)")

            let pinned = try go.run(["get", "example.com/hello@v1.3.0"], in: workspace.path + "/app")
            #expect(pinned.status != 0)
            #expect(pinned.errorOutput.contains("goedge policy: example.com/hello@v1.3.0 denied: GO-2099-0001 (a test advisory)"), "\(pinned)")
            #expect(try upstream.requests(for: "/example.com/hello/@v/v1.3.0.zip") == 0)
            #expect(agent.log.contains("/example.com/hello/@v/v1.3.0.info 403"))
            let metrics = String(decoding: try agent.get("/-/metrics").body, as: UTF8.self)
            let refused = metrics.split(separator: "\n").first { $0.hasPrefix(#"goedge_refused_total{reason="policy"} "#) }
            #expect(refused.flatMap { $0.split(separator: " ").last }.flatMap { Int($0) } ?? 0 >= 1, "\(refused ?? "none")")
            #expect(agent.terminate() == 0)
        }

        @Test func anAllowListRefusesAnUnlistedModule() throws {
            let upstream = try GoProxyFixture()
            let workspace = TemporaryDirectory()
            try workspace.write("policy.toml", "[[allow]]\nmodule = \"example.com/hello\"\n[[allow]]\nmodule = \"example.com/dep\"\n")
            let agent = try AgentProcess(upstream: upstream.url, arguments: ["--policy-file", workspace.path + "/policy.toml"])
            try workspace.write("app/go.mod", "module example.com/app\n\ngo 1.17\n")
            let go = GoCommand(proxy: agent.url, home: workspace.path + "/home")
            #expect(try go.run(["mod", "download", "example.com/hello@v1.3.0"], in: workspace.path + "/app").status == 0)
            let refused = try go.run(["mod", "download", "example.com/quote@v1.5.2"], in: workspace.path + "/app")
            #expect(refused.status != 0)
            #expect(refused.errorOutput.contains("goedge policy: example.com/quote@v1.5.2 denied: the module is not on the allow list"), "\(refused)")
            #expect(agent.terminate() == 0)
        }

        @Test func sighupReadsThePolicyAgainWithoutCuttingADownloadAndKeepsItWhenTheFileIsBroken() throws {
            let upstream = try GoProxyFixture()
            let workspace = TemporaryDirectory()
            try workspace.write("policy.toml", "# nothing denied yet\n")
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(
                upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--policy-file", workspace.path + "/policy.toml"])
            let port = agent.port
            #expect(try agent.get("/example.com/hello/@v/v1.3.0.mod").status == 200)

            let pending = Thread.detachedResult { try RawHTTP.get(port: port, CacheBehaviour.slowZip) }
            #expect(eventually { (try? upstream.requests(for: CacheBehaviour.slowZip)) == 1 })
            try workspace.write("policy.toml", Self.denyHelloFromV130)
            agent.process.signal(SIGHUP)
            #expect(eventually { agent.log.contains("policy read again") })
            let denied = try agent.get("/example.com/hello/@v/v1.3.0.mod")
            #expect(denied.status == 403)
            #expect(String(decoding: denied.body, as: UTF8.self) == "goedge policy: example.com/hello@v1.3.0 denied: GO-2099-0001 (a test advisory)\n")
            #expect(try agent.get("/example.com/hello/@v/list").body == Array("v1.0.0\nv1.1.0\nv1.2.0-rc.1\nv1.2.0\n".utf8))
            let slow = try pending.wait()
            #expect(slow.status == 200)
            #expect(slow.body.count > 2 << 20)

            // A broken file is refused whole; the rules in force stay.
            try workspace.write("policy.toml", "[[deny]]\nversions = \"soon\"\n")
            agent.process.signal(SIGHUP)
            #expect(eventually { agent.log.contains("policy file refused") })
            #expect(try agent.get("/example.com/hello/@v/v1.3.0.mod").status == 403)
            // Cached, denied, and still there: goedge cache ls says so.
            let listed = try ChildProcess.run(Paths.goedge, ["cache", "ls", "--config", "/dev/null", "--agent", agent.url])
            #expect(
                listed.output.split(separator: "\n").contains { $0.hasPrefix("example.com/hello@v1.3.0") && $0.contains("denied: GO-2099-0001") },
                "\(listed)")
            #expect(agent.terminate() == 0)
            let cached = try ChildProcess.run(Paths.goedge, ["cache", "ls", "--config", "/dev/null", "--cache-dir", cache.path])
            #expect(cached.output.contains("example.com/hello@v1.3.0"), "\(cached)")
        }

        /// The Go vulnerability database's OSV layout: example.com/dep from
        /// `introduced` is affected, fixed in v1.0.2 (which the fixture does
        /// not have). The index is written last, as an update would.
        static func writeVulnerabilityDatabase(
            _ folder: TemporaryDirectory, introduced: String = "1.0.1", modified: String = "2099-01-01T00:00:00Z"
        ) throws {
            try folder.write(
                "vulndb/ID/GO-2099-0002.json",
                #"{"id":"GO-2099-0002","summary":"Name returns the wrong greeting","affected":[{"package":{"name":"example.com/dep","ecosystem":"Go"},"#
                    + #""ranges":[{"type":"SEMVER","events":[{"introduced":"\#(introduced)"},{"fixed":"1.0.2"}]}]}]}"#)
            try folder.write(
                "vulndb/index/modules.json",
                #"[{"path":"example.com/dep","vulns":[{"id":"GO-2099-0002","modified":"\#(modified)","fixed":"1.0.2"}]}]"#)
        }

        @Test func aVulnerableVersionIsDeniedAndGoGetPicksTheOneBefore() throws {
            let upstream = try GoProxyFixture()
            let workspace = TemporaryDirectory()
            try Self.writeVulnerabilityDatabase(workspace)
            try workspace.write("policy.toml", "vulndb = \"vulndb\"\n")
            let agent = try AgentProcess(upstream: upstream.url, arguments: ["--policy-file", workspace.path + "/policy.toml"])
            try workspace.write("app/go.mod", "module example.com/app\n\ngo 1.17\n")
            let go = GoCommand(proxy: agent.url, home: workspace.path + "/home")
            let latest = try go.run(["get", "example.com/dep@latest"], in: workspace.path + "/app")
            #expect(latest.status == 0, "\(latest)")
            #expect(try String(contentsOfFile: workspace.path + "/app/go.mod", encoding: .utf8).contains("example.com/dep v1.0.0"))
            let pinned = try go.run(["mod", "download", "example.com/dep@v1.0.1"], in: workspace.path + "/app")
            #expect(pinned.status != 0)
            #expect(
                pinned.errorOutput.contains(
                    "goedge policy: example.com/dep@v1.0.1 denied: GO-2099-0002 (Name returns the wrong greeting; fixed in v1.0.2)"),
                "\(pinned)")
            #expect(agent.terminate() == 0)
        }

        /// `policy-vulndb` in goedge.toml names the database without a policy
        /// file; naming one in both places is refused.
        @Test func policyVulndbNamesTheDatabaseInGoedgeToml() throws {
            let upstream = try GoProxyFixture()
            let workspace = TemporaryDirectory()
            try Self.writeVulnerabilityDatabase(workspace)
            try workspace.write("goedge.toml", "policy-vulndb = \"\(workspace.path)/vulndb\"\n")
            let agent = try AgentProcess(upstream: upstream.url, configFile: workspace.path + "/goedge.toml")
            let denied = try agent.get("/example.com/dep/@v/v1.0.1.mod")
            #expect(denied.status == 403)
            #expect(denied.text.contains("example.com/dep@v1.0.1 denied: GO-2099-0002"), "\(denied)")
            #expect(try agent.get("/example.com/dep/@v/v1.0.0.mod").status == 200)
            // An updated copy is read again when its index changes: now v1.0.0 is affected too.
            try Self.writeVulnerabilityDatabase(workspace, introduced: "0", modified: "2099-01-02T00:00:00Z")
            #expect(eventually { agent.log.contains("policy read again") }, "\(agent.log)")
            #expect(try agent.get("/example.com/dep/@v/v1.0.0.mod").status == 403)
            #expect(agent.terminate() == 0)

            let checked = try ChildProcess.run(
                Paths.goedge, ["policy", "check", "--config", workspace.path + "/goedge.toml", "--agent", "http://127.0.0.1:1", "example.com/dep@v1.0.1"])
            #expect(checked.status == 1 && checked.output.contains("GO-2099-0002"), "\(checked)")

            try workspace.write("policy.toml", "vulndb = \"vulndb\"\n")
            try workspace.write(
                "both.toml", "policy-vulndb = \"\(workspace.path)/vulndb\"\npolicy-file = \"\(workspace.path)/policy.toml\"\n")
            let both = try ChildProcess.run(Paths.goedge, ["config", "--check", "--config", workspace.path + "/both.toml"])
            #expect(both.status == 78, "\(both)")
            #expect(both.errorOutput.contains("both name a vulnerability database: keep one"), "\(both)")
        }

        @Test func warnModeServesAVulnerableVersionWithAWarning() throws {
            let upstream = try GoProxyFixture()
            let workspace = TemporaryDirectory()
            try Self.writeVulnerabilityDatabase(workspace)
            try workspace.write("policy.toml", "vulndb = \"\(workspace.path)/vulndb\"\nvuln-action = \"warn\"\n")
            let agent = try AgentProcess(upstream: upstream.url, arguments: ["--policy-file", workspace.path + "/policy.toml"])
            try workspace.write("app/go.mod", "module example.com/app\n\ngo 1.17\n")
            let go = GoCommand(proxy: agent.url, home: workspace.path + "/home")
            let downloaded = try go.run(["mod", "download", "example.com/dep@v1.0.1"], in: workspace.path + "/app")
            #expect(downloaded.status == 0, "\(downloaded)")
            let mod = try agent.get("/example.com/dep/@v/v1.0.1.mod")
            #expect(mod.status == 200)
            #expect(mod.header("Warning") == "299 goedge \"GO-2099-0002 (Name returns the wrong greeting; fixed in v1.0.2)\"")
            #expect(agent.log.contains("served a version with a known vulnerability"))
            let metrics = try agent.get("/-/metrics")
            #expect(String(decoding: metrics.body, as: UTF8.self).contains("goedge_policy_warnings_total"))
            #expect(agent.terminate() == 0)
        }

        /// The fixture publishes example.com/fresh v1.1.0 as it starts.
        @Test func aReleaseYoungerThanTheCooldownIsSkippedByGoGetAndRefusedWhenPinned() throws {
            let upstream = try GoProxyFixture()
            let workspace = TemporaryDirectory()
            try workspace.write("policy.toml", "min-release-age = \"7d\"\n")
            let agent = try AgentProcess(
                upstream: upstream.url,
                arguments: ["--policy-file", workspace.path + "/policy.toml", "--checksum-database", upstream.sumdbKey])
            try workspace.write("app/go.mod", "module example.com/app\n\ngo 1.17\n")
            let go = GoCommand(proxy: agent.url, home: workspace.path + "/home")

            let latest = try go.run(["get", "example.com/fresh@latest"], in: workspace.path + "/app")
            #expect(latest.status == 0, "\(latest)")
            #expect(try String(contentsOfFile: workspace.path + "/app/go.mod", encoding: .utf8).contains("example.com/fresh v1.0.0"))
            let upgrade = try go.run(["get", "-u", "example.com/fresh"], in: workspace.path + "/app")
            #expect(upgrade.status == 0, "\(upgrade)")
            #expect(try String(contentsOfFile: workspace.path + "/app/go.mod", encoding: .utf8).contains("example.com/fresh v1.0.0"))

            let pinned = try go.run(["get", "example.com/fresh@v1.1.0"], in: workspace.path + "/app")
            #expect(pinned.status != 0)
            #expect(
                pinned.errorOutput.contains("goedge policy: example.com/fresh@v1.1.0 denied: released less than 7d ago (min-release-age)"),
                "\(pinned)")
            #expect(try upstream.requests(for: "/example.com/fresh/@v/v1.1.0.zip") == 0)
            // An exempt module is offered whatever its age.
            try workspace.write("policy.toml", "min-release-age = \"7d\"\ncooldown-exempt = [\"example.com/fresh\"]\n")
            agent.process.signal(SIGHUP)
            #expect(eventually { agent.log.contains("policy read again") })
            let exempt = try go.run(["get", "example.com/fresh@v1.1.0"], in: workspace.path + "/app")
            #expect(exempt.status == 0, "\(exempt)")
            // No longer exempt: the cached v1.1.0 stays, and goedge cache ls says why it is not served.
            try workspace.write("policy.toml", "min-release-age = \"7d\"\n")
            agent.process.signal(SIGHUP)
            #expect(eventually { agent.log.components(separatedBy: "policy read again").count == 3 })
            let listed = try ChildProcess.run(Paths.goedge, ["cache", "ls", "--config", "/dev/null", "--agent", agent.url])
            let lines = listed.output.split(separator: "\n")
            #expect(lines.contains { $0.hasPrefix("example.com/fresh@v1.1.0 ") && $0.contains("denied: released less than 7d ago (min-release-age)") }, "\(listed)")
            #expect(lines.contains { $0.hasPrefix("example.com/fresh@v1.0.0 ") && !$0.contains("denied") }, "\(listed)")
            #expect(agent.terminate() == 0)
        }

        /// The attack the cooldown exists for: a release published now whose
        /// .info (and commit) say 2019. goedge dates it by the checksum
        /// database's log, which only grows: its record was added after
        /// goedge's first view of the log, so it is refused, and says why;
        /// `goedge policy check` says who dated each version.
        @Test func aBackdatedReleaseIsRefusedByTheChecksumDatabasesLog() throws {
            let upstream = try GoProxyFixture()
            let workspace = TemporaryDirectory()
            try workspace.write("policy.toml", "min-release-age = \"7d\"\n")
            let agent = try AgentProcess(
                upstream: upstream.url,
                arguments: ["--policy-file", workspace.path + "/policy.toml", "--checksum-database", upstream.sumdbKey])
            // goedge's first view of the log is taken at start.
            #expect(eventually { FileManager.default.fileExists(atPath: agent.cacheDirectory + "/checksum-heads.testsum.example") })
            try upstream.publish("example.com/fresh", "v1.2.0", time: "2019-01-01T00:00:00Z")

            try workspace.write("app/go.mod", "module example.com/app\n\ngo 1.17\n")
            let go = GoCommand(proxy: agent.url, home: workspace.path + "/home")
            let pinned = try go.run(["get", "example.com/fresh@v1.2.0"], in: workspace.path + "/app")
            #expect(pinned.status != 0)
            // (The record's number is the catalog's size: it grows with the fixture.)
            #expect(
                pinned.errorOutput.contains(
                    "goedge policy: example.com/fresh@v1.2.0 denied: released less than 7d ago (min-release-age), dated by the checksum database's log (record "),
                "\(pinned)")
            #expect(pinned.errorOutput.contains(" was added after goedge's last view of the log)"), "\(pinned)")
            #expect(try upstream.requests(for: "/example.com/fresh/@v/v1.2.0.zip") == 0)
            let latest = try go.run(["get", "example.com/fresh@latest"], in: workspace.path + "/app")
            #expect(latest.status == 0, "\(latest)")
            #expect(try String(contentsOfFile: workspace.path + "/app/go.mod", encoding: .utf8).contains("example.com/fresh v1.0.0"))

            let checked = try ChildProcess.run(
                Paths.goedge, ["policy", "check", "--config", "/dev/null", "--agent", agent.url, "example.com/fresh@v1.2.0", "example.com/fresh@v1.0.0"])
            #expect(checked.status == 1, "\(checked)")
            #expect(checked.output.contains("example.com/fresh@v1.2.0 denied: released less than 7d ago (min-release-age), dated by the checksum database's log"), "\(checked)")
            #expect(checked.output.contains("example.com/fresh@v1.0.0 allowed (min-release-age: dated by its publisher's time (its checksum record precedes goedge's first view of the log"), "\(checked)")
            #expect(agent.terminate() == 0)
        }

        /// A CI step that prefetches a workspace learns of a denied
        /// requirement there, with the reason, and fails.
        @Test func prefetchReportsADeniedRequirementAndExitsOne() throws {
            let upstream = try GoProxyFixture()
            let workspace = try Prefetch.workspace(upstream: upstream, tidy: true)
            let folder = TemporaryDirectory()
            try folder.write("policy.toml", Self.denyHelloFromV130)
            let agent = try AgentProcess(upstream: upstream.url, arguments: ["--policy-file", folder.path + "/policy.toml"])
            // go mod tidy, against the fixture directly, fetched it once.
            let before = try upstream.requests(for: "/example.com/hello/@v/v1.3.0.zip")
            let result = try Prefetch.prefetch(agent, [workspace.path])
            #expect(result.status == 1, "\(result)")
            #expect(
                (result.output + result.errorOutput).contains(
                    "403 Forbidden: goedge policy: example.com/hello@v1.3.0 denied: GO-2099-0001 (a test advisory)"), "\(result)")
            #expect(try upstream.requests(for: "/example.com/hello/@v/v1.3.0.zip") == before)
            #expect(agent.terminate() == 0)
        }

        /// A configuration manager replaces the file: no signal needed.
        @Test func aChangedFileIsReadAgainWithoutASignal() throws {
            let upstream = try GoProxyFixture()
            let folder = TemporaryDirectory()
            try folder.write("policy.toml", "# open\n")
            let agent = try AgentProcess(upstream: upstream.url, arguments: ["--policy-file", folder.path + "/policy.toml"])
            #expect(try agent.get("/example.com/hello/@v/v1.3.0.info").status == 200)
            try folder.write("policy.toml.new", Self.denyHelloFromV130)
            #expect(rename(folder.path + "/policy.toml.new", folder.path + "/policy.toml") == 0)
            #expect(eventually { agent.log.contains("policy read again") && agent.log.contains("the file changed") })
            #expect(try agent.get("/example.com/hello/@v/v1.3.0.info").status == 403)
            #expect(agent.terminate() == 0)
        }

        /// `systemctl reload goedge` sends SIGHUP whatever the configuration:
        /// without a policy file it must not end the agent, as it would by default.
        @Test func sighupWithoutAPolicyFileLeavesTheAgentServing() throws {
            let agent = try AgentProcess(upstream: "off")
            agent.process.signal(SIGHUP)
            #expect(eventually { agent.log.contains("SIGHUP: no policy-file to read again") })
            #expect(try agent.get("/example.com/m/@v/list").status == 404)
            #expect(agent.terminate() == 0)
        }

        @Test func theCommandsSayWhatThePolicyDecides() throws {
            let folder = TemporaryDirectory()
            try folder.write("policy.toml", Self.denyHelloFromV130)
            let denied = try ChildProcess.run(
                Paths.goedge, ["policy", "check", "--config", "/dev/null", "--policy-file", folder.path + "/policy.toml", "example.com/hello@v1.3.0"])
            #expect(denied.status == 1)
            #expect(denied.output == "goedge policy: example.com/hello@v1.3.0 denied: GO-2099-0001 (a test advisory)\n")
            let json = try ChildProcess.run(
                Paths.goedge,
                ["policy", "check", "--json", "--config", "/dev/null", "--policy-file", folder.path + "/policy.toml", "example.com/hello@v1.2.0"])
            #expect(json.status == 0)
            #expect(json.output == #"{"allowed":true,"module":"example.com\/hello","version":"v1.2.0"}"# + "\n")

            try folder.write("broken.toml", "[[deny]]\nmodule = \"example.com/m\"\nversions = \"<= x\"\n")
            try folder.write("goedge.toml", "policy-file = \"\(folder.path)/broken.toml\"\n")
            let check = try ChildProcess.run(Paths.goedge, ["config", "--check", "--config", folder.path + "/goedge.toml"])
            #expect(check.status == 78)
            #expect(check.errorOutput.contains("\(folder.path)/broken.toml:3: versions:"), "\(check)")
            let serve = try ChildProcess.run(
                Paths.goedge, ["serve", "--config", folder.path + "/goedge.toml", "--listen", "127.0.0.1:0", "--upstream", "off"],
                timeout: .seconds(30))
            #expect(serve.status == 78, "\(serve)")
        }
    }
}
