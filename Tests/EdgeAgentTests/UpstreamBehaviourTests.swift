import Foundation
import Testing
import TestSupport

extension Integration {
    /// The upstream list's `,`/`|` rules, error passthrough, redirects, and
    /// what comes with libcurl: netrc, proxies, connection reuse.
    @Suite struct UpstreamBehaviour {
        static let modPath = "/example.com/hello/@v/v1.0.0.mod"
        /// A loopback port nothing listens on.
        static let closedPort = "http://127.0.0.1:9"

        @Test func errorAnswersPassThroughUnchanged() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
            for path in [
                "/example.com/broken/@v/list", "/example.com/forbidden/@latest", "/example.com/gone/@v/v1.0.0.info",
                "/example.com/hello/@v/v9.9.9.zip", "/example.com/nonexistent/@v/list",
            ] {
                let direct = try RawHTTP.get(port: upstream.port, path)
                let through = try agent.get(path)
                #expect(through.status == direct.status, "\(path)")
                #expect(through.reason == direct.reason, "\(path)")
                #expect(through.text == direct.text, "\(path)")
                #expect(through.header("Content-Type") == direct.header("Content-Type"), "\(path)")
            }
            #expect(agent.terminate() == 0)
        }

        @Test func theUpstreamListFollowsTheGoCommandsRules() throws {
            let upstream = try GoProxyFixture()
            let failing = try GoProxyFixture()
            try failing.failEverything(with: 503)
            let other = try GoProxyFixture(catalog: "graph:3")  // knows none of the core modules: 404
            let cases: [(list: String, status: Int, why: String)] = [
                ("\(Self.closedPort)|\(upstream.url)", 200, "'|' moves on after a refused connection"),
                ("\(Self.closedPort),\(upstream.url)", 502, "',' does not"),
                ("\(other.url),\(upstream.url)", 200, "',' moves on after a 404"),
                ("\(other.url)|\(upstream.url)", 200, "and so does '|'"),
                ("\(failing.url),\(upstream.url)", 503, "',' stops at a 503"),
                ("\(failing.url)|\(upstream.url)", 200, "'|' moves on after a 503"),
                ("\(other.url)", 404, "the last answer stands"),
                ("\(other.url),direct", 404, "direct: goedge cannot fetch from version control"),
                ("off", 404, "off: nothing is fetched"),
                ("\(Self.closedPort)|\(other.url)", 404, "a 404 at the end lets the client fall through"),
            ]
            for (list, status, why) in cases {
                let cache = TemporaryDirectory()
                let agent = try AgentProcess(upstream: list, cacheDirectory: cache.path)
                let response = try agent.get(Self.modPath)
                #expect(response.status == status, "\(list): \(why)\n\(response.text)")
                if status == 404 && list.hasSuffix("direct") {
                    #expect(response.text.contains("version control"))
                }
                #expect(agent.terminate() == 0)
            }
        }

        @Test func redirectsAreFollowedAgainstTheUpstreamsURL() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            // /redir/… answers a relative redirect to /mod/…, which only resolves against the upstream.
            let agent = try AgentProcess(upstream: upstream.url + "/redir", cacheDirectory: cache.path)
            let response = try agent.get(Self.modPath)
            #expect(response.status == 200)
            #expect(response.body == (try RawHTTP.get(port: upstream.port, Self.modPath)).body)
            #expect(try upstream.requests(for: "/redir" + Self.modPath) == 1)
            #expect(try upstream.requests(for: Self.modPath) == 2)
            #expect(agent.terminate() == 0)
        }

        @Test func anUpstreamURLMayCarryAPathPrefix() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url + "/mod/", cacheDirectory: cache.path)
            let workspace = TemporaryDirectory()
            try workspace.write("app/go.mod", "module example.com/app\n\ngo 1.17\n")
            let go = GoCommand(proxy: agent.url, sumdb: upstream.sumdbKey, home: workspace.path + "/home")
            let result = try go.run(["mod", "download", "example.com/hello@v1.3.0"], in: workspace.path + "/app")
            #expect(result.status == 0, "\(result)")
            #expect(agent.terminate() == 0)
        }

        @Test func anUnreachableUpstreamGivesA502() throws {
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: Self.closedPort, cacheDirectory: cache.path, arguments: ["--connect-timeout", "2s"])
            let response = try agent.get(Self.modPath)
            #expect(response.status == 502)
            #expect(response.header("Content-Type") == "text/plain; charset=utf-8")
            #expect(response.text.contains("127.0.0.1:9"))
            #expect(agent.terminate() == 0)
        }

        @Test func aStalledTransferIsAbandonedAfterTheStallTimeout() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--stall-timeout", "1s"])
            let started = ContinuousClock.now
            let response = try agent.get("/example.com/stall/@v/v1.0.0.zip")
            #expect(response.status == 502)
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(CacheBehaviour.storedFiles(cache).isEmpty)
            #expect(cache.files(under: "tmp").isEmpty)
            #expect(agent.terminate() == 0)
        }

        /// Failed module requests are counted where `goedge status` shows
        /// them, and the log says why the upstream fails: one warning for a
        /// burst of failures, not one a request (and not only in the 502's body).
        @Test func aFailingUpstreamIsCountedAndExplainedOnce() throws {
            let agent = try AgentProcess(upstream: Self.closedPort, arguments: ["--no-read-ahead"])
            for patch in 1...3 { #expect(try agent.get("/example.com/hello/@v/v1.0.\(patch).mod").status == 502) }
            let status = try ChildProcess.run(Paths.goedge, ["status", "--config", "/dev/null", "--agent", agent.url])
            #expect(status.output.contains("requests:  3 answered, 3 failed"), "\(status)")
            #expect(!status.output.contains("no module requests yet"), "\(status)")
            #expect(status.output.contains("FAILING (3 requests, 3 failed"), "\(status)")
            #expect(agent.terminate() == 0)
            let warnings = agent.log.split(separator: "\n").filter { $0.contains(" warn ") && $0.contains("upstream failing") }
            #expect(warnings.count == 1, "\(agent.log)")
            #expect(warnings.first?.contains("Failed to connect to 127.0.0.1 port 9") == true, "\(agent.log)")
        }

        @Test func credentialsNeverAppearInLogsOrAnswers() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let withPassword = upstream.url.replacingOccurrences(of: "http://", with: "http://alice:s3cret-one@")
            let unreachable = Self.closedPort.replacingOccurrences(of: "http://", with: "http://bob:s3cret-two@")
            // Without read-ahead, the one request counted is the one asked for.
            let agent = try AgentProcess(
                upstream: "\(unreachable)|\(withPassword)", cacheDirectory: cache.path,
                arguments: ["--log-level", "debug", "--no-read-ahead"])
            #expect(try agent.get(Self.modPath).status == 200)
            #expect(try upstream.requests(for: "auth:alice") == 1)

            let failing = try AgentProcess(upstream: unreachable)
            let failure = try failing.get(Self.modPath)
            #expect(failure.status == 502)
            #expect(!failure.text.contains("s3cret"))
            #expect(agent.terminate() == 0)
            #expect(failing.terminate() == 0)
            for log in [agent.log, failing.log] {
                #expect(!log.contains("s3cret"))
                #expect(log.contains("xxxxx"))
            }
        }

        @Test func netrcCredentialsAreSent() throws {
            let upstream = try GoProxyFixture()
            let folder = TemporaryDirectory()
            try folder.write("netrc", "machine 127.0.0.1 login carol password from-netrc\n")
            // Without read-ahead, the one request counted is the one asked for.
            let agent = try AgentProcess(
                upstream: upstream.url, cacheDirectory: folder.path + "/cache", arguments: ["--no-read-ahead"],
                environment: ["NETRC": folder.path + "/netrc"])
            #expect(try agent.get(Self.modPath).status == 200)
            #expect(try upstream.requests(for: "auth:carol") == 1)
            #expect(agent.terminate() == 0)
        }

        @Test func proxyVariablesAreHonoured() throws {
            let upstream = try GoProxyFixture()
            let proxy = try GoProxyFixture()
            let host = upstream.url.replacingOccurrences(of: "http://", with: "")

            let proxied = try AgentProcess(
                upstream: upstream.url, arguments: ["--no-read-ahead"],
                environment: ["http_proxy": proxy.url])
            #expect(try proxied.get(Self.modPath).status == 200)
            #expect(try proxy.requests(for: "proxy:GET \(host)") == 1)

            let bypassed = try AgentProcess(
                upstream: upstream.url, arguments: ["--no-read-ahead"],
                environment: ["http_proxy": proxy.url, "NO_PROXY": "127.0.0.1"])
            #expect(try bypassed.get(Self.modPath).status == 200)
            #expect(try proxy.requests(for: "proxy:GET \(host)") == 1)

            // An https upstream goes through HTTPS_PROXY with CONNECT (which this proxy refuses).
            let tunnelled = try AgentProcess(
                upstream: "https://\(host)", environment: ["HTTPS_PROXY": proxy.url])
            #expect(try tunnelled.get(Self.modPath).status == 502)
            #expect(try proxy.requests(for: "proxy:CONNECT \(host)") >= 1)
            for agent in [proxied, bypassed, tunnelled] { #expect(agent.terminate() == 0) }
        }

        @Test func connectionsToTheUpstreamAreReused() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--no-read-ahead"])
            for version in ["v1.0.0", "v1.1.0", "v1.2.0", "v1.3.0"] {
                for file in ["info", "mod", "zip"] {
                    #expect(try agent.get("/example.com/hello/@v/\(version).\(file)").status == 200)
                }
            }
            #expect(try upstream.totalRequests() == 12)
            #expect(try upstream.requests(for: "_connections") == 1)
            #expect(agent.terminate() == 0)
        }

        /// libcurl (and the libraries it brings) is opened by the first
        /// transfer, not at start: a start that answers from the cache never needs it.
        @Test func libcurlIsLoadedByTheFirstMiss() throws {
            let upstream = try GoProxyFixture()
            let agent = try AgentProcess(upstream: upstream.url, arguments: ["--no-read-ahead"])
            // Read to the end: procfs files say they are empty.
            let maps = { () throws -> String in
                let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/\(agent.process.pid)/maps"))
                defer { try? handle.close() }
                return String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
            }
            #expect(try agent.get("/-/healthz").status == 200)
            #expect(try maps().contains("/goedge") && !maps().contains("libcurl"))
            #expect(try agent.get("/example.com/hello/@v/v1.3.0.mod").status == 200)
            #expect(try maps().contains("libcurl"))
            #expect(agent.terminate() == 0)
        }

        /// Different misses at once reach a plain-http upstream together:
        /// libcurl does not hold them back to learn from the first response
        /// whether its connection multiplexes (it never does over http://).
        @Test func differentMissesAtOnceReachTheUpstreamTogether() throws {
            let upstream = try GoProxyFixture(delay: .milliseconds(500))
            let agent = try AgentProcess(upstream: upstream.url, arguments: ["--no-read-ahead"])
            let port = agent.port
            let responses = try concurrently(6) { i in try RawHTTP.get(port: port, "/example.com/filler\(i)/@v/v1.0.0.zip") }
            #expect(responses.allSatisfy { $0.status == 200 })
            #expect(try upstream.requests(for: "_most_at_once") == 6)
            #expect(agent.terminate() == 0)
        }
    }
}
