import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

extension Integration {
    /// Who may use the agent: `client-hosts` for the module protocol, beside
    /// `control-hosts` for the control API. Another loopback address
    /// (127.0.0.2) is another client.
    @Suite struct AccessControl {
        @Test func aClientOutsideClientHostsIsRefusedBeforeItSendsAnything() throws {
            let upstream = try GoProxyFixture()
            let agent = try AgentProcess(
                upstream: upstream.url, arguments: ["--client-hosts", "127.0.0.2", "--control-hosts", "127.0.0.3"])
            // Nothing sent: the refusal comes on the address alone.
            let fd = try RawHTTP.connect(port: agent.port, timeout: .seconds(5))
            defer { close(fd) }
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
                if count <= 0 { break }
                received.append(contentsOf: buffer[0..<count])
            }
            let text = String(decoding: received, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 403 Forbidden\r\n"), "\(text)")
            #expect(text.contains("goedge: 127.0.0.1 may not use this agent; its client-hosts setting lists who may"))

            let allowed = try RawHTTP.get(port: agent.port, "/example.com/hello/@v/list", from: "127.0.0.2")
            #expect(allowed.status == 200)
            let metrics = try RawHTTP.get(port: agent.port, "/-/metrics", from: "127.0.0.2")
            #expect(String(decoding: metrics.body, as: UTF8.self).contains(#"goedge_refused_total{reason="client-hosts"} 1"#))
            #expect(agent.terminate() == 0)
        }

        @Test func theGoCommandOutsideClientHostsFailsWithTheReasonWhileTheControlAPIStillAnswers() throws {
            let upstream = try GoProxyFixture()
            // The go command connects from 127.0.0.1: a control host, not a client.
            let agent = try AgentProcess(upstream: upstream.url, arguments: ["--client-hosts", "127.0.0.2/32"])
            let workspace = TemporaryDirectory()
            try workspace.write("app/go.mod", "module example.com/app\n\ngo 1.17\n")
            let go = GoCommand(proxy: agent.url, home: workspace.path + "/home")
            let refused = try go.run(["mod", "download", "example.com/hello@v1.3.0"], in: workspace.path + "/app")
            #expect(refused.status != 0)
            #expect(refused.errorOutput.contains("403 Forbidden"), "\(refused)")
            #expect(refused.errorOutput.contains("client-hosts setting lists who may"), "\(refused)")
            #expect(try upstream.requests(for: "/example.com/hello/@v/v1.3.0.zip") == 0)
            #expect(try agent.get("/-/api/status").status == 200)
            #expect(agent.terminate() == 0)
        }
    
        /// Who fetched what: each access log line names the client, by
        /// address and port over TCP and by user id over the unix socket.
        @Test(.enabled(if: which("curl") != nil, "needs curl"))
        func theAccessLogNamesTheClient() throws {
            let upstream = try GoProxyFixture()
            let agent = try AgentProcess(upstream: upstream.url)
            #expect(try agent.get("/example.com/hello/@v/list").status == 200)
            #expect(eventually { agent.log.contains("GET /example.com/hello/@v/list 200") })
            let line = agent.log.split(separator: "\n").first { $0.contains("GET /example.com/hello/@v/list 200") } ?? ""
            #expect(line.contains(" client=127.0.0.1:"), "\(line)")
            #expect(agent.terminate() == 0)

            let folder = TemporaryDirectory()
            let socketPath = folder.path + "/goedge.sock"
            let cache = TemporaryDirectory()
            let unix = try ChildProcess(
                Paths.goedge,
                ["serve", "--config", "/dev/null", "--listen", "unix:" + socketPath, "--upstream", upstream.url, "--cache-dir", cache.path])
            _ = try unix.waitForLine(containing: "listening", inErrorOutput: true)
            let fetched = try ChildProcess.run(
                which("curl")!, ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--unix-socket", socketPath, "http://localhost/example.com/hello/@v/list"])
            #expect(fetched.output == "200", "\(fetched)")
            #expect(eventually { unix.errorOutput.contains("GET /example.com/hello/@v/list 200") })
            #expect(unix.errorOutput.contains(" client=uid=\(getuid())"), "\(unix.errorOutput)")
            unix.signal(SIGTERM)
            #expect(unix.waitForExit() == 0)
        }
    
        /// Module requests carry HTTP Basic credentials from the file; the
        /// token never shows. (The go command sends .netrc credentials, and
        /// those of a GOPROXY URL, over HTTPS only: through a TLS front such
        /// as a CI host's reverse proxy. curl is the client here.)
        @Test(.enabled(if: which("curl") != nil, "needs curl"))
        func moduleFetchesNeedTheCredentialsFromTheFile() throws {
            let upstream = try GoProxyFixture()
            let folder = TemporaryDirectory()
            let token = "s3cret-token-7f2a"
            try folder.write("clients", "# CI jobs\nci:\(token)\nrelease:other-token\n")
            let agent = try AgentProcess(upstream: upstream.url, arguments: ["--client-credentials-file", folder.path + "/clients"])
            try folder.write("app/go.mod", "module example.com/app\n\ngo 1.17\n")

            // Without credentials the go command stops, with the reason.
            let go = GoCommand(proxy: agent.url, home: folder.path + "/home")
            let refused = try go.run(["mod", "download", "example.com/hello@v1.3.0"], in: folder.path + "/app")
            #expect(refused.status != 0)
            #expect(refused.errorOutput.contains("401 Unauthorized"), "\(refused)")
            #expect(refused.errorOutput.contains("goedge: credentials needed (HTTP Basic)"), "\(refused)")
            let raw = try agent.get("/example.com/hello/@v/list")
            #expect(raw.status == 401)
            #expect(raw.header("WWW-Authenticate")?.hasPrefix("Basic realm=\"goedge\"") == true)

            func curl(_ user: String) throws -> String {
                try ChildProcess.run(
                    which("curl")!, ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-u", user, agent.url + "/example.com/hello/@v/v1.3.0.zip"]
                ).output
            }
            #expect(try curl("ci:\(token)") == "200")
            #expect(try curl("ci:guess") == "401")
            #expect(try curl("nobody:\(token)") == "401")
            #expect(try curl("release:other-token") == "200")

            #expect(agent.log.split(separator: "\n").contains { $0.contains("v1.3.0.zip 200") && $0.contains(" user=ci") })
            #expect(!agent.log.contains(token))
            // The control API is not behind these credentials (control-hosts decides).
            #expect(try agent.get("/-/api/status").status == 200)
            #expect(agent.terminate() == 0)
        }
    }
}

extension Integration.AccessControl {
    /// Outside systemd, `log-format = json` gives the journal's fields as
    /// one JSON object a line.
    @Test func jsonLinesCarryWhoFetchedWhat() throws {
        let upstream = try GoProxyFixture()
        let agent = try AgentProcess(upstream: upstream.url, arguments: ["--log-format", "json"])
        #expect(try agent.get("/example.com/hello/@v/v1.3.0.mod").status == 200)
        #expect(eventually { agent.log.contains("v1.3.0.mod 200") })
        let lines = agent.log.split(separator: "\n").map { String($0) }
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(objects.count == lines.count, "every line is a JSON object: \(lines.prefix(3))")
        let access = objects.first { ($0["message"] as? String)?.contains("v1.3.0.mod 200") == true }
        #expect(access?["module"] as? String == "example.com/hello")
        #expect(access?["version"] as? String == "v1.3.0")
        #expect(access?["kind"] as? String == "mod")
        #expect(access?["cache"] as? String == "miss")
        #expect((access?["client"] as? String)?.hasPrefix("127.0.0.1:") == true)
        #expect(access?["level"] as? String == "info")
        #expect(objects.contains { $0["message"] as? String == "cache loaded" && $0["entries"] != nil })
        #expect(agent.terminate() == 0)
    }

    /// Runs goedge as `nobody`: another local user.
    static func asNobody(_ arguments: [String]) throws -> CommandResult {
        try ChildProcess.run(
            which("setpriv")!, ["--reuid=nobody", "--regid=nogroup", "--clear-groups", Paths.goedge] + arguments,
            environment: ["PATH": "/usr/bin:/bin", "HOME": "/nonexistent"])
    }

    /// An agent listening on a unix socket anyone may connect to (the
    /// kernel then names each peer), in a folder of its own.
    static func serveOnUnixSocket(
        upstream: GoProxyFixture, cache: TemporaryDirectory
    ) throws -> (agent: ChildProcess, socketPath: String, folder: TemporaryDirectory) {
        let folder = TemporaryDirectory()
        chmod(folder.path, 0o755)
        let socketPath = folder.path + "/goedge.sock"
        let agent = try ChildProcess(
            Paths.goedge,
            ["serve", "--config", "/dev/null", "--listen", "unix:" + socketPath, "--upstream", upstream.url, "--cache-dir", cache.path])
        _ = try agent.waitForLine(containing: "listening", inErrorOutput: true)
        chmod(socketPath, 0o777)
        return (agent, socketPath, folder)
    }

    /// On a host with several users, an imported or removed file changes
    /// what every other user's build receives: over TCP that takes the
    /// control token (which only root and goedge's user can read), over the
    /// unix socket root or goedge's own user. Anyone trusted may still look.
    @Test(.enabled(if: which("setpriv") != nil && getuid() == 0, "needs setpriv and root"))
    func onlyRootAndGoedgesUserMayChangeTheCache() throws {
        let upstream = try GoProxyFixture()
        let cache = TemporaryDirectory()
        let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
        #expect(try agent.get("/example.com/hello/@v/v1.3.0.mod").status == 200)
        let token = try #require(try? String(contentsOfFile: cache.path + "/control-token", encoding: .utf8))
        var status = stat()
        #expect(stat(cache.path + "/control-token", &status) == 0 && status.st_mode & 0o777 == 0o600)

        // Without the token, over TCP: refused before the body is read.
        let bare = try RawHTTP.post(port: agent.port, "/-/api/cache/remove", body: Array(#"{"module":"example.com/hello"}"#.utf8))
        #expect(bare.status == 403)
        #expect(String(decoding: bare.body, as: UTF8.self).contains("changing the cache needs"))
        // Verifying removes what is damaged, and reads every file on the pool misses need: a change too.
        let verify = try RawHTTP.post(port: agent.port, "/-/api/cache/verify", body: Array("{}".utf8))
        #expect(verify.status == 403, "\(verify)")
        let verified = try RawHTTP.post(port: agent.port, "/-/api/cache/verify", body: Array("{}".utf8), headers: agent.controlAuthorization)
        #expect(verified.status == 200, "\(verified)")

        // Another user: may read the status, may not remove.
        chmod(cache.path, 0o755)
        let nobodyStatus = try Self.asNobody(["status", "--config", "/dev/null", "--agent", agent.url])
        #expect(nobodyStatus.status == 0, "\(nobodyStatus)")
        let nobodyRemove = try Self.asNobody(["cache", "rm", "--config", "/dev/null", "--agent", agent.url, "example.com/hello@v1.3.0"])
        #expect(nobodyRemove.status != 0)
        #expect((nobodyRemove.output + nobodyRemove.errorOutput).contains("changing the cache needs"), "\(nobodyRemove)")
        #expect(try agent.get("/example.com/hello/@v/v1.3.0.mod").header("X-Cache") == "hit")

        // root reads the token from the folder it names itself, and may.
        let removed = try ChildProcess.run(
            Paths.goedge, ["cache", "rm", "--config", "/dev/null", "--agent", agent.url, "--cache-dir", cache.path, "example.com/hello@v1.3.0"])
        #expect(removed.status == 0, "\(removed)")
        #expect(!agent.log.contains(token.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(agent.terminate() == 0)

        // Over the unix socket the kernel names the peer.
        let (unix, socketPath, folder) = try Self.serveOnUnixSocket(upstream: upstream, cache: cache)
        defer { withExtendedLifetime(folder) {} }  // the socket lives in it
        let viaSocket = ["--config", "/dev/null", "--agent", "unix:" + socketPath]
        #expect(try Self.asNobody(["status"] + viaSocket).status == 0)
        let refused = try Self.asNobody(["cache", "prune", "--to", "1GiB"] + viaSocket)
        #expect(refused.status != 0)
        #expect((refused.output + refused.errorOutput).contains("changing the cache needs"), "\(refused)")
        #expect(try ChildProcess.run(Paths.goedge, ["cache", "prune", "--to", "1GiB"] + viaSocket).status == 0)
        unix.signal(SIGTERM)
        #expect(unix.waitForExit() == 0)

    }

    /// A command sends the control token only to an agent on this host
    /// that names the cache folder the command is configured with, read
    /// from that folder: a listener that merely answers at `--agent` with a
    /// live agent's folder in its status gets nothing.
    @Test(.enabled(if: getuid() == 0, "needs root (the token is root's to read)"))
    func theControlTokenGoesOnlyToTheAgentOfTheConfiguredFolder() throws {
        let upstream = try GoProxyFixture()
        let cache = TemporaryDirectory()
        let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
        let status = try agent.get("/-/api/status")
        #expect(status.status == 200)
        let token = try #require(try? String(contentsOfFile: cache.path + "/control-token", encoding: .utf8))
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let impostor = try ImpostorAgent(status: status.body)
        let home = TemporaryDirectory()
        let environment = ["PATH": "/usr/bin:/bin", "HOME": home.path]
        let fooled = try ChildProcess.run(
            Paths.goedge, ["cache", "prune", "--to", "1KiB", "--config", "/dev/null", "--agent", impostor.url], environment: environment)
        #expect(fooled.status != 0, "\(fooled)")
        #expect(impostor.authorizations().isEmpty, "\(impostor.authorizations())")
        #expect(!impostor.heard(token))
        // Configured with that folder, the command trusts what answers on loopback naming it (the agent is the one using it).
        _ = try ChildProcess.run(
            Paths.goedge, ["cache", "prune", "--to", "1KiB", "--config", "/dev/null", "--agent", impostor.url, "--cache-dir", cache.path],
            environment: environment)
        #expect(impostor.heard(token))
        #expect(agent.terminate() == 0)
    }

    /// A prefetch through the control API fills the cache as its caller
    /// chooses, so it is a change like the others: refused without the
    /// token over TCP, and for another uid over the unix socket. Another
    /// user's `goedge prefetch` still warms the cache, walking the graph
    /// itself through the module protocol, and still checks go.sum.
    @Test(.enabled(if: which("setpriv") != nil && getuid() == 0, "needs setpriv and root"))
    func anotherUsersPrefetchGoesThroughTheModuleProtocol() throws {
        let upstream = try GoProxyFixture()
        let workspace = try Integration.Prefetch.workspace(upstream: upstream, tidy: true)
        let unlisted = try Integration.Prefetch.workspace(upstream: upstream, tidy: false)
        let tampered = TemporaryDirectory()
        let goSum = try #require(workspace.read("go.sum"))
        let helloLine = try #require(goSum.split(separator: "\n").first { $0.hasPrefix("example.com/hello v1.3.0 h1:") })
        try tampered.write("go.mod", Integration.Prefetch.goMod)
        try tampered.write(
            "go.sum", goSum.replacingOccurrences(of: helloLine, with: "example.com/hello v1.3.0 h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))
        for folder in [workspace, unlisted, tampered] { chmod(folder.path, 0o755) }
        let cache = TemporaryDirectory()
        let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--no-read-ahead"])

        let files = #"{"files": [{"path": "/w/go.mod", "content": "module m\n"}]}"#
        let bare = try RawHTTP.post(port: agent.port, "/-/prefetch", body: Array(files.utf8))
        #expect(bare.status == 403, "\(bare)")
        #expect(bare.text.contains("changing the cache needs"), "\(bare)")
        #expect(try RawHTTP.post(port: agent.port, "/-/prefetch", body: Array(files.utf8), headers: agent.controlAuthorization).status == 200)

        let viaTCP = ["prefetch", "--config", "/dev/null", "--agent", agent.url]
        let prefetched = try Self.asNobody(viaTCP + [workspace.path])
        #expect(prefetched.status == 0, "\(prefetched)")
        #expect(prefetched.errorOutput.contains("the agent does not prefetch for this user"), "\(prefetched)")
        #expect(prefetched.output.contains("prefetched 3 modules, 9 files"), "\(prefetched)")
        #expect(prefetched.output.contains("0 already cached, 9 fetched, 0 failed"), "\(prefetched)")
        // The graph walk, for a requirement go.sum does not list, goes the same way.
        let walked = try Self.asNobody(viaTCP + [unlisted.path + "/go.mod"])
        #expect(walked.status == 0, "\(walked)")
        #expect(walked.output.contains("0 failed"), "\(walked)")
        #expect(Integration.CacheBehaviour.storedFiles(cache).contains("example.com/dep/@v/v1.0.1/zip"))
        // go.sum is checked on this side too.
        let mismatch = try Self.asNobody(viaTCP + [tampered.path])
        #expect(mismatch.status == 1, "\(mismatch)")
        #expect(mismatch.output.contains("checksum mismatch for example.com/hello@v1.3.0: go.sum has h1:AAAA"), "\(mismatch)")

        // What it fetched is what the build needs.
        upstream.stop()
        let built = try Integration.Prefetch.build(workspace, through: agent)
        #expect(built.status == 0, "\(built)")
        // root reads the token: the agent's own prefetch, no notice.
        let byRoot = try Integration.Prefetch.prefetch(agent, [workspace.path])
        #expect(byRoot.status == 0, "\(byRoot)")
        #expect(!byRoot.errorOutput.contains("does not prefetch"), "\(byRoot)")
        #expect(byRoot.output.contains("9 already cached"), "\(byRoot)")
        #expect(agent.terminate() == 0)

        // Over the unix socket the kernel names the peer.
        let (unix, socketPath, folder) = try Self.serveOnUnixSocket(upstream: upstream, cache: cache)
        defer { withExtendedLifetime(folder) {} }  // the socket lives in it
        let viaSocket = ["prefetch", "--config", "/dev/null", "--agent", "unix:" + socketPath, workspace.path]
        let nobody = try Self.asNobody(viaSocket)
        #expect(nobody.status == 0, "\(nobody)")
        #expect(nobody.errorOutput.contains("the agent does not prefetch for this user"), "\(nobody)")
        #expect(nobody.output.contains("9 already cached"), "\(nobody)")
        let root = try ChildProcess.run(Paths.goedge, viaSocket)
        #expect(root.status == 0 && !root.errorOutput.contains("does not prefetch"), "\(root)")
        unix.signal(SIGTERM)
        #expect(unix.waitForExit() == 0)
    }
}
