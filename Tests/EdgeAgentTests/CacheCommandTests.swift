import Foundation
import Testing
import TestSupport

extension Integration {
    /// `goedge status` and `goedge cache …`, each against a running agent
    /// (through its control API) and against a stopped one (on the folder).
    @Suite struct CacheCommands {
        static let modules = ["example.com/hello@v1.3.0", "example.com/dep@v1.0.1", "example.com/quote@v1.5.2"]

        static func goedge(_ arguments: [String], agent: String? = nil, cache: TemporaryDirectory) throws -> CommandResult {
            // Nobody listens on port 1: with no agent named, the command works on the folder.
            try ChildProcess.run(
                Paths.goedge,
                arguments + ["--config", "/dev/null", "--agent", agent ?? "http://127.0.0.1:1", "--cache-dir", cache.path],
                environment: ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()])
        }

        /// A cache holding `modules`, filled through an agent that is still running.
        static func filledAgent(_ upstream: GoProxyFixture, _ cache: TemporaryDirectory, arguments: [String] = []) throws -> AgentProcess {
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--no-read-ahead"] + arguments)
            let workspace = TemporaryDirectory()
            try workspace.write("app/go.mod", "module example.com/app\n\ngo 1.17\n")
            let go = GoCommand(proxy: agent.url, home: workspace.path + "/home")
            let downloaded = try go.run(["mod", "download"] + modules, in: workspace.path + "/app")
            #expect(downloaded.status == 0, "\(downloaded)")
            return agent
        }

        /// Whether another process holds the folder's lock (a try from here fails).
        static func isLocked(_ path: String) -> Bool {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return true }
            flock(fd, LOCK_UN)
            return false
        }

        /// ``filledAgent(_:_:arguments:)``, stopped unless `keptRunning`.
        static func filledAgent(_ upstream: GoProxyFixture, _ cache: TemporaryDirectory, keptRunning: Bool) throws -> AgentProcess? {
            let agent = try filledAgent(upstream, cache)
            guard keptRunning else {
                #expect(agent.terminate() == 0)
                return nil
            }
            return agent
        }

        /// The zip file of a module version in goedge's cache folder.
        static func storedZip(_ cache: TemporaryDirectory, _ group: String) throws -> String {
            let path = try #require(cache.files(under: "data").first { $0.hasSuffix(group + "/zip") })
            return cache.path + "/data/" + path
        }

        @Test(arguments: [true, false])
        func listRemoveAndPrune(running: Bool) throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try Self.filledAgent(upstream, cache, keptRunning: running)
            let url = agent?.url

            let listed = try Self.goedge(["cache", "ls"], agent: url, cache: cache)
            #expect(listed.status == 0, "\(listed)")
            for module in Self.modules { #expect(listed.output.contains(module), "\(listed)") }
            let pattern = try Self.goedge(["cache", "ls", "--json", "example.com/h*"], agent: url, cache: cache)
            let entries = try #require(try JSONSerialization.jsonObject(with: Data(pattern.output.utf8)) as? [[String: Any]])
            #expect(entries.map { $0["name"] as? String } == ["example.com/hello@v1.3.0"])
            #expect((entries.first?["files"] as? [String]) == ["info", "mod", "zip"])

            let removed = try Self.goedge(["cache", "rm", "example.com/quote@v1.5.2"], agent: url, cache: cache)
            #expect(removed.status == 0 && removed.output.contains("removed example.com/quote@v1.5.2"), "\(removed)")
            #expect(!CacheBehaviour.storedFiles(cache).contains { $0.hasPrefix("example.com/quote/") })
            let again = try Self.goedge(["cache", "rm", "example.com/quote@v1.5.2"], agent: url, cache: cache)
            #expect(again.status == 1 && again.errorOutput.contains("nothing cached for example.com/quote@v1.5.2"), "\(again)")
            let badVersion = try Self.goedge(["cache", "rm", "example.com/quote@latest/../x"], agent: url, cache: cache)
            #expect(badVersion.status == 1, "\(badVersion)")

            let pruned = try Self.goedge(["cache", "prune", "--to", "64KiB"], agent: url, cache: cache)
            #expect(pruned.status == 0 && pruned.output.contains("removed"), "\(pruned)")
            #expect(cache.diskUsage() <= 64 << 10)
            let old = try Self.goedge(["cache", "prune", "--older-than", "0s"], agent: url, cache: cache)
            #expect(old.status == 0, "\(old)")
            #expect(CacheBehaviour.storedFiles(cache).isEmpty, "\(CacheBehaviour.storedFiles(cache))")
            let neither = try Self.goedge(["cache", "prune"], agent: url, cache: cache)
            #expect(neither.status == 64, "\(neither)")

            if let agent {
                // The agent still serves, fetching again what was removed.
                #expect(try agent.get("/example.com/quote/@v/v1.5.2.zip").status == 200)
                #expect(agent.terminate() == 0)
            }
        }

        @Test(arguments: [true, false])
        func verifyFindsAndRemovesADamagedZip(running: Bool) throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try Self.filledAgent(upstream, cache, keptRunning: running)
            let clean = try Self.goedge(["cache", "verify"], agent: agent?.url, cache: cache)
            #expect(clean.status == 0 && clean.output.contains("0 damaged"), "\(clean)")

            // Damage one zip in place, keeping its size.
            let zip = try Self.storedZip(cache, "example.com%2Fhello%2F@v%2Fv1.3.0")
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: zip)))
            for index in bytes.indices.suffix(64) { bytes[index] ^= 0xFF }
            try Data(bytes).write(to: URL(fileURLWithPath: zip))

            let damaged = try Self.goedge(["cache", "verify"], agent: agent?.url, cache: cache)
            #expect(damaged.status == 1, "\(damaged)")
            #expect(damaged.output.contains("damaged: example.com/hello@v1.3.0"), "\(damaged)")
            #expect(damaged.output.contains("1 damaged, 1 removed"), "\(damaged)")
            let stored = CacheBehaviour.storedFiles(cache)
            #expect(!stored.contains { $0.hasPrefix("example.com/hello/@v/v1.3.0/") }, "\(stored)")
            #expect(stored.contains("example.com/dep/@v/v1.0.1/zip"))
            agent.map { #expect($0.terminate() == 0) }
        }

        /// A developer's existing downloads, brought in: a build through goedge
        /// then needs nothing from the upstream.
        @Test(arguments: [true, false])
        func importingAGoModCacheServesEveryFileFromTheCache(running: Bool) throws {
            let upstream = try GoProxyFixture()
            let workspace = try Prefetch.workspace(upstream: upstream, tidy: true)
            let home = TemporaryDirectory()
            let direct = GoCommand(proxy: upstream.url, home: home.path)
            #expect(try direct.run(["mod", "download", "all"], in: workspace.path).status == 0)
            // A damaged .ziphash: that version fails its check and is not imported.
            let quoteHash = direct.moduleCache + "/cache/download/example.com/quote/@v/v1.5.2.ziphash"
            let goodHash = try String(contentsOfFile: quoteHash, encoding: .utf8)
            try FileManager.default.removeItem(atPath: quoteHash)  // the go command made it read-only
            try "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n".write(toFile: quoteHash, atomically: false, encoding: .utf8)

            let requestsBefore = try upstream.totalRequests()
            let cache = TemporaryDirectory()
            var agent: AgentProcess? = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--no-read-ahead"])
            let url = running ? agent?.url : nil
            if !running {
                #expect(agent?.terminate() == 0)
                agent = nil
            }
            let imported = try Self.goedge(["cache", "import", direct.moduleCache], agent: url, cache: cache)
            #expect(imported.status == 1, "\(imported)")
            #expect(imported.output.contains("failed: example.com/quote@v1.5.2: checksum mismatch"), "\(imported)")
            #expect(!CacheBehaviour.storedFiles(cache).contains { $0.hasPrefix("example.com/quote/") })

            try goodHash.write(toFile: quoteHash, atomically: false, encoding: .utf8)
            let second = try Self.goedge(["cache", "import", direct.moduleCache], agent: url, cache: cache)
            #expect(second.status == 0 && second.output.contains("0 failed"), "\(second)")
            #expect(try upstream.totalRequests() == requestsBefore)  // nothing fetched to import

            if agent == nil { agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--no-read-ahead"]) }
            upstream.stop()
            let goHome = TemporaryDirectory()
            let through = GoCommand(proxy: agent!.url, home: goHome.path)
            let downloaded = try through.run(["mod", "download", "all"], in: workspace.path)
            #expect(downloaded.status == 0, "\(downloaded)")
            #expect(through.downloadedFiles() == direct.downloadedFiles())
            // Every file a hit (the access log names each answer's outcome).
            #expect(agent!.log.contains("cache=hit"), "\(agent!.log)")
            #expect(!agent!.log.contains("cache=miss"), "\(agent!.log)")
            #expect(agent!.terminate() == 0)
        }

        @Test func statusShowsTheAgentOrTheFolder() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try Self.filledAgent(upstream, cache)
            let workspace = try Prefetch.workspace(upstream: upstream, tidy: true)
            #expect(try Prefetch.prefetch(agent, [workspace.path]).status == 0)

            let running = try Self.goedge(["status"], agent: agent.url, cache: cache)
            #expect(running.status == 0, "\(running)")
            #expect(running.output.contains("running at \(agent.url)"), "\(running)")
            #expect(running.output.contains("cache:     \(cache.path)"), "\(running)")
            #expect(running.output.contains("upstream:  \(upstream.url): answering"), "\(running)")
            #expect(running.output.contains("prefetch:  just now: \(workspace.path)"), "\(running)")
            let json = try Self.goedge(["status", "--json"], agent: agent.url, cache: cache)
            let report = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
            let cacheReport = try #require(report["cache"] as? [String: Any])
            #expect((cacheReport["modules"] as? Int ?? 0) >= 3)
            #expect(agent.terminate() == 0)

            let stopped = try Self.goedge(["status"], cache: cache)
            #expect(stopped.status == 3, "\(stopped)")
            #expect(stopped.output.contains("no agent answers"), "\(stopped)")
            #expect(stopped.output.contains("cache:  \(cache.path):"), "\(stopped)")
        }

        /// A command holding the folder makes an agent starting meanwhile wait, not fail.
        @Test func anAgentStartingDuringACommandWaitsForTheFolder() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            #expect(try Self.filledAgent(upstream, cache).terminate() == 0)
            // flock(1) holds the lock as a command would, for a second.
            let holder = try ChildProcess("/usr/bin/flock", [cache.path + "/goedge.lock", "sleep", "1"])
            #expect(eventually { Self.isLocked(cache.path + "/goedge.lock") })
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
            #expect(holder.waitForExit() == 0)
            #expect(try agent.get("/example.com/hello/@v/v1.3.0.zip").header("X-Cache") == "hit")
            #expect(agent.terminate() == 0)
        }
    }
}
