import Foundation
import Testing
import TestSupport

extension Integration {
    /// What clients see on the wire: clear 4xx answers for malformed
    /// requests, the right headers, sendfile for zips, and a clean stop.
    @Suite struct RequestHandling {
        @Test func malformedRequestsGetAClearErrorAndTouchNothing() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
            let canary = NSTemporaryDirectory() + "goedge-pwned-\(getpid())"
            let cases: [(request: String, status: Int)] = [
                ("GET /example.com/hello/@v/%zz.info HTTP/1.1", 400),
                ("GET /example.com/hello/@v/v1.0.0%00.info HTTP/1.1", 400),
                ("GET /example.com/../../etc/passwd HTTP/1.1", 400),
                ("GET /../../../etc/passwd HTTP/1.1", 400),
                ("GET //etc/passwd/@v/list HTTP/1.1", 400),
                ("GET /example.com/x/@v/..%2F..%2F..%2F..%2F..%2F..%2Ftmp%2Fgoedge-pwned-\(getpid()).info HTTP/1.1", 400),
                ("GET /example.com/x/@v/..%2f..%2f..%2f..%2f..%2f..%2ftmp%2fgoedge-pwned-\(getpid()).zip HTTP/1.1", 400),
                ("GET /example.com/%2e%2e/@v/list HTTP/1.1", 400),
                ("GET /example.com/./hello/@v/list HTTP/1.1", 400),
                ("GET / HTTP/1.1", 400),
                ("GET /example.com/Hello/@v/list HTTP/1.1", 400),
                ("GET /example.com/hello/@v/master.zip HTTP/1.1", 400),
                ("GET /example.com/hello/@v/v1.0.0.exe HTTP/1.1", 404),
                ("GET /favicon.ico HTTP/1.1", 404),
                ("GET /sumdb/sum.golang.org/../../etc/passwd HTTP/1.1", 400),
                ("GET /sumdb/sum.golang.org/tile/8/0/../../x HTTP/1.1", 400),
                ("GET /sumdb/sum.golang.org/tile/8/0/x00/12 HTTP/1.1", 404),
                ("GET /sumdb/sum+evil.example/latest HTTP/1.1", 404),
                ("GET /sumdb/sum.example.com/../latest HTTP/1.1", 400),
                ("GET /-/nothing-here HTTP/1.1", 404),
                ("GET /\(String(repeating: "a", count: 5000)) HTTP/1.1", 414),
                ("POST /example.com/hello/@v/list HTTP/1.1", 405),
                ("DELETE /example.com/hello/@v/v1.0.0.zip HTTP/1.1", 405),
                ("GET example.com/hello/@v/list HTTP/1.1", 400),
                ("GET /example.com/hello/@v/list HTTP/1.1\r\nContent-Length: nonsense", 400),
            ]
            for (requestLine, status) in cases {
                let request = Array("\(requestLine)\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)
                let response = try RawHTTP.exchange(port: agent.port, request: request)
                #expect(response.status == status, "\(requestLine.prefix(100)): \(response.status) \(response.text)")
                #expect(response.header("Content-Type") == "text/plain; charset=utf-8", "\(requestLine.prefix(100))")
                #expect(response.text.hasPrefix("goedge: "), "\(requestLine.prefix(100)): \(response.text)")
                if status == 405 { #expect(response.header("Allow") == "GET, HEAD") }
            }
            #expect(try upstream.totalRequests() == 0)
            #expect(CacheBehaviour.storedFiles(cache).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: canary + ".info"))
            #expect(!FileManager.default.fileExists(atPath: canary + ".zip"))
            // Still serving.
            #expect(try agent.get("/example.com/hello/@v/list").status == 200)
            #expect(agent.terminate() == 0)
        }

        @Test func answersCarryTheRightTypeAndLength() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            // Without read-ahead, so that each first request is a miss.
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--no-read-ahead"])
            let cases: [(path: String, type: String)] = [
                ("/example.com/hello/@v/list", "text/plain; charset=utf-8"),
                ("/example.com/hello/@latest", "application/json"),
                ("/example.com/hello/@v/v1.3.0.info", "application/json"),
                ("/example.com/pseudo/@v/master.info", "application/json"),
                ("/example.com/hello/@v/v1.3.0.mod", "text/plain; charset=utf-8"),
                ("/example.com/hello/@v/v1.3.0.zip", "application/zip"),
                ("/example.com/%21upper/%21case/@v/v1.0.0.zip", "application/zip"),
                ("/example.com/!upper/!case/@v/v1.0.0.info", "application/json"),
                ("/example.com/quote/@v/v1.5.3-%21p%21r%21e.mod", "text/plain; charset=utf-8"),
                ("/example.com/incompat/@v/v2.0.0+incompatible.zip", "application/zip"),
                ("/sumdb/testsum.example/supported", "text/plain; charset=utf-8"),
                ("/sumdb/testsum.example/latest", "text/plain; charset=utf-8"),
                ("/sumdb/testsum.example/lookup/example.com/hello@v1.3.0", "text/plain; charset=utf-8"),
                ("/sumdb/testsum.example/tile/8/0/000.p/3", "application/octet-stream"),
            ]
            for (path, type) in cases {
                let direct = try RawHTTP.get(port: upstream.port, path)
                for expectedCache in ["miss", "hit"] {
                    let response = try agent.get(path)
                    #expect(response.status == 200, "\(path)")
                    #expect(response.header("Content-Type") == type, "\(path)")
                    #expect(response.header("Content-Length") == String(direct.body.count), "\(path)")
                    #expect(response.body == direct.body, "\(path)")
                    #expect(response.header("X-Cache") == expectedCache, "\(path)")
                    let head = try agent.get(path, method: "HEAD")
                    #expect(head.status == 200 && head.body.isEmpty, "\(path)")
                    #expect(head.header("Content-Length") == String(direct.body.count), "\(path)")
                    #expect(head.header("Content-Type") == type, "\(path)")
                }
            }
            #expect(agent.terminate() == 0)
        }

        @Test(.enabled(if: which("strace") != nil, "needs strace"))
        func zipsAreSentWithSendfile() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
            let traceFolder = TemporaryDirectory()
            let trace = traceFolder.path + "/goedge.strace"
            let strace = try ChildProcess(
                which("strace")!, ["-f", "-qq", "-e", "trace=sendfile,write,writev", "-o", trace, "-p", String(agent.process.pid)])
            #expect(eventually { agent.process.isTraced })
            let zip = try agent.get("/example.com/big/@v/v1.0.0.zip")
            let again = try agent.get("/example.com/big/@v/v1.0.0.zip")
            #expect(zip.status == 200 && again.body == zip.body)
            strace.signal(SIGINT)
            #expect(strace.waitForExit() != nil)
            #expect(agent.terminate() == 0)
            let lines = (try String(contentsOfFile: trace, encoding: .utf8)).split(separator: "\n")
            func bytes(_ call: String) -> Int {
                lines.filter { $0.contains(call + "(") }
                    .compactMap { $0.split(separator: "=").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
                    .reduce(0, +)
            }
            // Both sends of the 2 MiB zip went out by sendfile; writes carried its
            // bytes once only, into the cache file when it was fetched.
            #expect(bytes("sendfile") >= 2 * zip.body.count, "\(lines.prefix(20))")
            #expect(bytes("write") + bytes("writev") < zip.body.count * 5 / 4)
        }

        @Test func sigtermFinishesResponsesInFlightAndExitsZero() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
            let port = agent.port
            let pending = Thread.detachedResult { try RawHTTP.get(port: port, CacheBehaviour.slowZip) }
            #expect(eventually { (try? upstream.requests(for: CacheBehaviour.slowZip)) == 1 })
            agent.process.signal(SIGTERM)
            // New connections are refused while the download finishes.
            #expect(eventually(timeout: .seconds(2)) { (try? RawHTTP.get(port: port, "/example.com/hello/@v/list")) == nil })
            let response = try pending.wait()
            #expect(response.status == 200)
            #expect(response.body == (try RawHTTP.get(port: upstream.port, CacheBehaviour.slowZip)).body)
            #expect(agent.process.waitForExit() == 0)
            #expect(agent.log.contains("stopped"))
        }

        @Test func sigtermGivesUpOnSlowResponsesAfterTheShutdownTimeout() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--shutdown-timeout", "1s"])
            let port = agent.port
            let pending = Thread.detachedResult { try RawHTTP.get(port: port, CacheBehaviour.slowZip) }
            #expect(eventually { (try? upstream.requests(for: CacheBehaviour.slowZip)) == 1 })
            let started = ContinuousClock.now
            agent.process.signal(SIGINT)
            #expect(agent.process.waitForExit(timeout: .seconds(3)) == 0, "\(agent.log)")
            #expect(ContinuousClock.now - started < .seconds(3))
            #expect((try? pending.wait())?.status != 200)
            // Nothing half-written remains to be served after a restart.
            let restarted = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
            #expect(cache.files(under: "tmp").isEmpty)
            #expect(restarted.terminate() == 0)
        }

        @Test func helpAndVersionExplainTheCommand() throws {
            let version = try ChildProcess.run(Paths.goedge, ["--version"])
            #expect(version.status == 0)
            #expect(version.output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
            let help = try ChildProcess.run(Paths.goedge, ["serve", "--help"])
            #expect(help.status == 0)
            for option in ["--listen", "--allow-remote", "--upstream", "--cache-dir", "--max-cache-size", "--log-level"] {
                #expect(help.output.contains(option), "serve --help lacks \(option)")
            }
            let remote = try ChildProcess.run(
                Paths.goedge, ["serve", "--config", "/dev/null", "--listen", "0.0.0.0:7179", "--cache-dir", "/nonexistent"])
            #expect(remote.status != 0)
            #expect(remote.errorOutput.contains("--allow-remote"))
        }
    }
}
