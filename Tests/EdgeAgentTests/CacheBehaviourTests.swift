import Foundation
import Testing
import TestSupport

extension Integration {
    /// What the cache promises: one upstream fetch per file, nothing partial
    /// ever stored, a hard size bound, and service from disk when the upstream is gone.
    @Suite struct CacheBehaviour {
        static let bigZip = "/example.com/big/@v/v1.0.0.zip"
        static let slowZip = "/example.com/slow/@v/v1.0.0.zip"

        /// Files in the store's data folder, as `group/name` with the group decoded enough to read.
        static func storedFiles(_ cache: TemporaryDirectory) -> [String] {
            cache.files(under: "data").filter { $0.split(separator: "/").count == 3 }
                .map { $0.split(separator: "/").dropFirst().joined(separator: "/").replacingOccurrences(of: "%2F", with: "/") }
        }

        @Test func concurrentMissesForOneZipReachTheUpstreamOnce() throws {
            let upstream = try GoProxyFixture(delay: .milliseconds(500))
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
            let port = agent.port
            let responses = try concurrently(50) { _ in try RawHTTP.get(port: port, Self.bigZip) }
            let expected = try RawHTTP.get(port: upstream.port, Self.bigZip).body
            #expect(responses.allSatisfy { $0.status == 200 && $0.body == expected })
            #expect(expected.count > 2 << 20)
            #expect(try upstream.requests(for: Self.bigZip) == 2)  // ours, and the one above
            #expect(agent.terminate() == 0)
        }

        @Test func anUpstreamKilledMidDownloadLeavesNothingCached() throws {
            var upstream = try GoProxyFixture()
            let port = upstream.port
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
            let agentPort = agent.port
            let pending = Thread.detachedResult { try RawHTTP.get(port: agentPort, Self.slowZip) }
            #expect(eventually { (try? upstream.requests(for: Self.slowZip)) == 1 })
            #expect(eventually { !cache.files(under: "tmp").isEmpty }, "the download is under way")
            upstream.stop()
            let interrupted = try pending.wait()
            #expect(interrupted.status == 502)
            #expect(interrupted.text.contains("goedge:"))
            #expect(!Self.storedFiles(cache).contains { $0.contains("slow") })
            #expect(cache.files(under: "tmp").isEmpty)

            // The same file is fetched again in full from a working upstream.
            upstream = try GoProxyFixture(port: port)
            let complete = try agent.get(Self.slowZip)
            #expect(complete.status == 200)
            #expect(complete.body == (try RawHTTP.get(port: port, Self.slowZip)).body)
            #expect(try upstream.requests(for: Self.slowZip) == 2)
            #expect(agent.terminate() == 0)
        }

        @Test func aTruncatedDownloadIsNeverCached() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
            for _ in 0..<2 {
                let response = try agent.get("/example.com/truncated/@v/v1.0.0.zip")
                #expect(response.status == 502)
            }
            // Each client's download was cut and tried again (resumed) up to the retry policy's bound.
            let asked = try upstream.requests(for: "/example.com/truncated/@v/v1.0.0.zip")
            #expect(asked >= 2 && asked <= 2 * 3, "\(asked)")
            #expect(!Self.storedFiles(cache).contains { $0.contains("truncated") })
            #expect(cache.files(under: "tmp").isEmpty)
            #expect(agent.terminate() == 0)
        }

        @Test func anAgentKilledMidDownloadLeavesNothingToServe() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
            let agentPort = agent.port
            let pending = Thread.detachedResult { try RawHTTP.get(port: agentPort, Self.slowZip) }
            #expect(eventually { (try? upstream.requests(for: Self.slowZip)) == 1 })
            #expect(eventually { !cache.files(under: "tmp").isEmpty }, "the download is under way")
            agent.process.kill()
            _ = try? pending.wait()
            #expect(!cache.files(under: "tmp").isEmpty, "a partial download was in progress")

            let restarted = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
            // The index loads after the agent listens; its log line says what it removed.
            #expect(eventually { restarted.log.contains("removed_leftovers=1") }, "\(restarted.log)")
            #expect(cache.files(under: "tmp").isEmpty)
            #expect(!Self.storedFiles(cache).contains { $0.contains("slow") })
            let response = try restarted.get(Self.slowZip)
            #expect(response.status == 200)
            #expect(response.header("X-Cache") == "miss")
            #expect(restarted.terminate() == 0)
        }

        @Test func aWarmCacheServesGoCommandsWhileTheUpstreamIsDown() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            // A TTL of zero: every list is past it at once, without sleeping.
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--metadata-ttl", "0s"])
            let workspace = TemporaryDirectory()
            try workspace.write("app/go.mod", "module example.com/app\n\ngo 1.17\n")
            let modules = ["example.com/hello@v1.3.0", "example.com/dep@v1.0.1", "example.com/Upper/Case@v1.0.0"]
            let warm = GoCommand(proxy: agent.url, home: workspace.path + "/warm")
            let warming = try warm.run(["mod", "download"] + modules, in: workspace.path + "/app")
            #expect(warming.status == 0, "\(warming)")
            #expect(try agent.get("/example.com/hello/@v/list").status == 200)

            upstream.stop()
            let cold = GoCommand(proxy: agent.url, home: workspace.path + "/cold")
            let offline = try cold.run(["mod", "download"] + modules, in: workspace.path + "/app")
            #expect(offline.status == 0, "\(offline)")
            #expect(cold.downloadedFiles() == warm.downloadedFiles())

            // A version list past its TTL is served stale, and says so.
            let list = try agent.get("/example.com/hello/@v/list")
            #expect(list.status == 200)
            #expect(list.header("X-Cache") == "stale")
            #expect(list.header("Warning")?.hasPrefix("110 ") == true)
            // What was never fetched cannot be served.
            let missing = try agent.get("/example.com/quote/@v/v1.5.2.mod")
            #expect(missing.status == 502)
            #expect(missing.header("Content-Type") == "text/plain; charset=utf-8")
            #expect(agent.terminate() == 0)

            // And after a restart, from the rebuilt index.
            let restarted = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
            let again = GoCommand(proxy: restarted.url, home: workspace.path + "/again")
            #expect(try again.run(["mod", "download"] + modules, in: workspace.path + "/app").status == 0)
            #expect(restarted.terminate() == 0)
        }

        @Test func evictionUnderATinyLimitKeepsGoCommandsWorking() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let limit: Int64 = 256 << 10
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--max-cache-size", "256KiB"])
            let workspace = TemporaryDirectory()
            try workspace.write("app/go.mod", "module example.com/app\n\ngo 1.17\n")
            for round in 0..<2 {
                for index in 0..<6 {
                    // A fresh module cache each time, so every file is asked of goedge.
                    let go = GoCommand(proxy: agent.url, home: workspace.path + "/home-\(round)-\(index)")
                    let result = try go.run(["mod", "download", "example.com/filler\(index)@v1.0.0", "example.com/hello@v1.3.0"], in: workspace.path + "/app")
                    #expect(result.status == 0, "\(result)")
                    #expect(cache.diskUsage() <= limit, "the cache folder uses \(cache.diskUsage()) bytes")
                }
            }
            // The oldest fillers made room for the newer ones.
            #expect(try upstream.requests(for: "/example.com/filler0/@v/v1.0.0.zip") == 2)
            #expect(!Self.storedFiles(cache).contains { $0.contains("filler0") })
            // A zip bigger than the whole cache still reaches the client, without emptying the cache.
            let storedBefore = Self.storedFiles(cache)
            let big = try agent.get(Self.bigZip)
            #expect(big.status == 200 && big.body.count > 2 << 20)
            // Relayed as it arrived, through memory: never written, so never over the limit, even for a moment.
            #expect(big.header("X-Cache") == "pass")
            #expect(big.body == (try RawHTTP.get(url: upstream.url + Self.bigZip)).body)
            #expect(Self.storedFiles(cache) == storedBefore)
            #expect(cache.diskUsage() <= limit)
            #expect(agent.terminate() == 0)
        }

        /// Over the wire, with libcurl and a real upstream: a list past its
        /// time to live (0 here: at once) is asked for again conditionally.
        /// (Freshness itself is tested in-process, with a clock the test moves.)
        @Test func versionListsAreRevalidatedWithConditionalRequests() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--metadata-ttl", "0"])
            let first = try agent.get("/example.com/hello/@v/list")
            #expect(first.header("X-Cache") == "miss")
            let revalidated = try agent.get("/example.com/hello/@v/list")
            #expect(revalidated.header("X-Cache") == "revalidated")
            #expect(revalidated.body == first.body)
            #expect(try upstream.requests(for: "/example.com/hello/@v/list") == 2)
            #expect(try upstream.requests(for: "304") == 1)
            #expect(agent.terminate() == 0)
        }

        @Test func notFoundAnswersAreRememberedBriefly() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
            let path = "/example.com/hello/@v/v9.9.9.info"
            let first = try agent.get(path)
            let second = try agent.get(path)
            #expect(first.status == 404 && second.status == 404)
            #expect(second.header("X-Cache") == "negative")
            #expect(second.body == first.body)
            #expect(try upstream.requests(for: path) == 1)
            // A remembered 404 never hides a file that exists: different key.
            #expect(try agent.get("/example.com/hello/@v/v1.0.0.info").status == 200)
            #expect(agent.terminate() == 0)
            // With a time to live of 0 it is not remembered at all.
            let forgetful = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--not-found-ttl", "0"])
            #expect(try forgetful.get(path).header("X-Cache") == "miss")
            #expect(try upstream.requests(for: path) == 2)
            #expect(forgetful.terminate() == 0)
        }
    }
}

extension Thread {
    /// Runs `body` on a new thread; `wait()` returns its result.
    static func detachedResult<T: Sendable>(_ body: @escaping @Sendable () throws -> T) -> PendingResult<T> {
        let pending = PendingResult<T>()
        Thread { pending.finish(Result { try body() }) }.start()
        return pending
    }
}

final class PendingResult<T: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<T, any Error>?

    func finish(_ result: Result<T, any Error>) {
        self.result = result
        done.signal()
    }

    func wait(timeout: Duration = .seconds(60)) throws -> T {
        guard done.wait(timeout: .now() + .seconds(Int(timeout.components.seconds))) == .success else {
            throw TestFailure("no result within \(timeout)")
        }
        return try result!.get()
    }
}
