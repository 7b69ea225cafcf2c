import Foundation
import Testing
import TestSupport

extension Integration {
    /// The go command never retries a download (golang/go#28194): goedge,
    /// which holds the whole body before answering, hides an upstream's
    /// transient failures from the build, and never makes a dead upstream
    /// busier than it would be without retries.
    @Suite struct FlakyUpstream {
        private static func retries(_ agent: AgentProcess) throws -> Int {
            let text = String(decoding: try agent.get("/-/metrics").body, as: UTF8.self)
            return text.split(separator: "\n").filter { $0.hasPrefix("goedge_upstream_retries_total{") }
                .compactMap { Int($0.split(separator: " ").last ?? "") }.reduce(0, +)
        }

        @Test func overloadedAndDroppedTransfersDoNotFailTheBuild() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--no-read-ahead"])
            let home = TemporaryDirectory()
            try home.write("app/go.mod", "module example.com/app\n\ngo 1.17\n")
            let go = GoCommand(proxy: agent.url, home: home.path)
            // Two 503s in a row, then a zip cut a third of the way: each is tried again.
            try upstream.flaky("503", count: 2)
            let first = try go.run(["mod", "download", "example.com/hello@v1.3.0"], in: home.path + "/app")
            #expect(first.status == 0, "\(first)")
            try upstream.flaky("cut", count: 1)
            let cut = try go.run(["mod", "download", "example.com/big@v1.0.0"], in: home.path + "/app")
            #expect(cut.status == 0, "\(cut)")
            // The cut zip was resumed where it stopped, from the same upstream.
            let counts = try upstream.requestCounts()
            #expect(counts["flaky:503"] == 2 && counts["flaky:cut"] == 1, "\(counts)")
            #expect(counts.keys.contains { $0.hasPrefix("range:bytes=") && $0 != "range:bytes=0-" }, "\(counts)")
            #expect(try Self.retries(agent) >= 3)
            #expect(agent.log.contains("retrying a transient upstream failure"), "\(agent.log)")
            // Byte for byte what the upstream has.
            var direct = GoCommand(proxy: upstream.url, home: home.path + "/direct")
            direct.extraEnvironment = [:]
            #expect(try direct.run(["mod", "download", "example.com/hello@v1.3.0", "example.com/big@v1.0.0"], in: home.path + "/app").status == 0)
            #expect(go.downloadedFiles() == direct.downloadedFiles())
            #expect(agent.terminate() == 0)
        }

        /// A dead upstream answering 503 to everything gets at most a
        /// budget's worth of retries beyond the requests themselves; a 404,
        /// 410 or 403 is never tried again.
        @Test func aDeadUpstreamGetsNoMoreLoadAndRefusalsAreNotRetried() throws {
            let upstream = try GoProxyFixture()
            let agent = try AgentProcess(upstream: upstream.url, arguments: ["--no-read-ahead"])
            for path in ["/example.com/nothing/@v/v1.0.0.info", "/example.com/gone/@v/v1.0.0.info", "/example.com/forbidden/@v/v1.0.0.info"] {
                #expect(try agent.get(path).status >= 400)
            }
            #expect(try upstream.totalRequests() == 3)
            #expect(try Self.retries(agent) == 0)

            try upstream.resetCounts()
            _ = try RawHTTP.get(port: upstream.port, "/_fixture/fail?status=503")
            for index in 0..<30 {
                #expect(try agent.get("/example.com/hello/@v/v1.\(index).0.info").status == 503)
            }
            let asked = try upstream.totalRequests()
            #expect(asked >= 30 && asked <= 30 + 12, "\(asked) upstream requests for 30 client requests")
            #expect(agent.terminate() == 0)
        }
    }
}
