import Foundation
import Testing
import TestSupport

extension Integration {
    /// `goedge prefetch` and the agent's prefetch endpoint: after it, a build
    /// needs nothing from the upstream.
    @Suite struct Prefetch {
        /// A main package using example.com/hello (which uses example.com/dep) and example.com/quote.
        static let main = """
            package main

            import (
            \t"fmt"

            \t"example.com/hello"
            \t"example.com/quote"
            )

            func main() { fmt.Println(hello.Hello(), quote.Quote()) }

            """
        static let goMod = "module example.org/app\n\ngo 1.19\n\nrequire (\n\texample.com/hello v1.3.0\n\texample.com/quote v1.5.2\n)\n"

        /// A workspace with go.mod and main.go, and, if `tidy`, the go.sum the go
        /// command makes for it against the upstream directly.
        static func workspace(upstream: GoProxyFixture, goMod: String = goMod, tidy: Bool) throws -> TemporaryDirectory {
            let workspace = TemporaryDirectory()
            try workspace.write("go.mod", goMod)
            try workspace.write("main.go", main)
            if tidy {
                let home = TemporaryDirectory()
                let go = GoCommand(proxy: upstream.url, home: home.path)
                let tidied = try go.run(["mod", "tidy"], in: workspace.path)
                #expect(tidied.status == 0, "\(tidied)")
            }
            return workspace
        }

        static func prefetch(_ agent: AgentProcess, _ paths: [String], directory: String? = nil) throws -> CommandResult {
            try ChildProcess.run(
                Paths.goedge, ["prefetch", "--config", "/dev/null", "--agent", agent.url, "--cache-dir", agent.cacheDirectory] + paths,
                environment: ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()], directory: directory)
        }

        /// `go build` through goedge with an empty module cache, allowed to
        /// update go.mod and go.sum (-mod=mod), as after a hand edit.
        static func build(_ workspace: TemporaryDirectory, through agent: AgentProcess) throws -> CommandResult {
            let home = TemporaryDirectory()
            var go = GoCommand(proxy: agent.url, home: home.path)
            go.extraEnvironment["GOFLAGS"] = "-mod=mod -modcacherw"
            return try go.run(["build", "-o", home.path + "/app", "."], in: workspace.path)
        }

        static func stored(_ cache: TemporaryDirectory) -> [String] {
            CacheBehaviour.storedFiles(cache)
        }

        /// A company whose checksum database is named with a path: after
        /// `goedge prefetch`, the go command verifying against that database
        /// builds through goedge with the upstream gone.
        @Test func prefetchWorksForAChecksumDatabaseNamedWithAPath() throws {
            let upstream = try GoProxyFixture()
            let workspace = try Self.workspace(upstream: upstream, tidy: true)
            let agent = try AgentProcess(upstream: upstream.url)
            let prefetched = try Self.prefetch(agent, [workspace.path])
            #expect(prefetched.status == 0, "\(prefetched)")
            upstream.stop()
            let home = TemporaryDirectory()
            var go = GoCommand(proxy: agent.url, sumdb: upstream.pathSumdbKey, home: home.path)
            go.extraEnvironment["GOFLAGS"] = "-mod=readonly -modcacherw"
            let built = try go.run(["build", "-o", home.path + "/app", "."], in: workspace.path)
            #expect(built.status == 0, "\(built)")
            #expect(agent.terminate() == 0)
        }

        @Test func prefetchingAGoSumWarmsEverythingTheBuildNeeds() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--no-read-ahead"])
            let workspace = try Self.workspace(upstream: upstream, tidy: true)
            let goSum = try #require(workspace.read("go.sum"))

            let result = try Self.prefetch(agent, [workspace.path + "/go.sum"])
            #expect(result.status == 0, "\(result)")
            #expect(result.output.contains("prefetched 3 modules, 9 files"), "\(result)")
            #expect(result.output.contains("0 already cached, 9 fetched, 0 failed"), "\(result)")
            // Not a terminal: plain progress lines, no bar.
            #expect(result.errorOutput.contains("prefetch: "), "\(result)")
            #expect(!result.errorOutput.contains("\r"))

            upstream.stop()
            let built = try Self.build(workspace, through: agent)
            #expect(built.status == 0, "\(built)")
            #expect(workspace.read("go.sum") == goSum)

            // Again: everything is there already.
            let again = try Self.prefetch(agent, [], directory: workspace.path)
            #expect(again.status == 0, "\(again)")
            #expect(again.output.contains("9 already cached, 0 fetched, 0 failed"), "\(again)")
            #expect(agent.terminate() == 0)
        }

        /// A requirement added by hand, no go.sum line for it yet: the graph is
        /// walked and everything a `-mod=mod` build adds is fetched.
        @Test func prefetchingAGoModWithoutGoSumWalksTheModuleGraph() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--no-read-ahead"])
            let workspace = try Self.workspace(upstream: upstream, tidy: false)
            #expect(workspace.read("go.sum") == nil)

            let result = try Self.prefetch(agent, [workspace.path + "/go.mod"])
            #expect(result.status == 0, "\(result)")
            #expect(result.output.contains("0 failed"), "\(result)")
            #expect(Self.stored(cache).contains { $0 == "example.com/dep/@v/v1.0.1/zip" })

            upstream.stop()
            let built = try Self.build(workspace, through: agent)
            #expect(built.status == 0, "\(built)")
            #expect(agent.terminate() == 0)
        }

        /// Real zips made by golang.org/x/mod (upper-case paths, +incompatible,
        /// pseudo-versions, synthesized go.mod files) all match the fixture's
        /// go.sum lines, computed there with x/mod's dirhash.
        @Test func hashesMatchTheGoCommandsOwn() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--no-read-ahead"])
            let all = String(decoding: try RawHTTP.get(port: upstream.port, "/_fixture/gosum").body, as: UTF8.self)
            let wanted = ["example.com/dep ", "example.com/hello ", "example.com/Upper/Case ", "example.com/quote ",
                "example.com/incompat ", "example.com/pseudo ", "example.com/filler0 "]
            let lines = all.split(separator: "\n").filter { line in wanted.contains { line.hasPrefix($0) } }
            #expect(lines.count == 2 * 14)
            let workspace = TemporaryDirectory()
            try workspace.write("go.sum", lines.joined(separator: "\n") + "\n")

            let result = try Self.prefetch(agent, [workspace.path + "/go.sum"])
            #expect(result.status == 0, "\(result)")
            #expect(result.output.contains("14 modules, 42 files"), "\(result)")
            #expect(result.output.contains("0 failed"), "\(result)")

            // Checked again from the cache (a zip's hash is kept beside it).
            let again = try Self.prefetch(agent, [workspace.path + "/go.sum"])
            #expect(again.status == 0 && again.output.contains("42 already cached"), "\(again)")
            #expect(agent.terminate() == 0)
        }

        @Test func aTamperedGoSumIsAChecksumErrorAndCachesNothing() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--no-read-ahead"])
            let workspace = try Self.workspace(upstream: upstream, tidy: true)
            let goSum = try #require(workspace.read("go.sum"))
            let real = try #require(goSum.split(separator: "\n").first { $0.hasPrefix("example.com/hello v1.3.0 h1:") })
            let realHash = String(real.split(separator: " ")[2])
            let forged = "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
            try workspace.write("go.sum", goSum.replacingOccurrences(of: realHash, with: forged))

            let result = try Self.prefetch(agent, [workspace.path])
            #expect(result.status == 1, "\(result)")
            #expect(
                result.output.contains(
                    "checksum mismatch for example.com/hello@v1.3.0: go.sum has \(forged), downloaded \(realHash)"),
                "\(result)")
            #expect(result.output.contains("1 failed"), "\(result)")
            // Neither the zip nor, after it, the .info of that version was kept.
            let stored = Self.stored(cache)
            #expect(!stored.contains("example.com/hello/@v/v1.3.0/zip") && !stored.contains("example.com/hello/@v/v1.3.0/info"))
            #expect(stored.contains("example.com/hello/@v/v1.3.0/mod"), "its go.mod matched: \(stored)")
            #expect(stored.contains("example.com/dep/@v/v1.0.1/zip"), "\(stored)")
            #expect(cache.files(under: "tmp").isEmpty)
            #expect(agent.terminate() == 0)
        }

        /// Prefetch runs behind clients: with one background download at a
        /// time and a slow upstream, a client's miss is answered while the
        /// prefetch is still far from done; and a client asking for a file
        /// the prefetch is fetching joins that fetch.
        @Test func clientsDoNotWaitBehindPrefetchAndJoinItsFetches() throws {
            let upstream = try GoProxyFixture(catalog: "graph:20", delay: .milliseconds(100))
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(
                upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--no-read-ahead", "--prefetch-concurrency", "1"])
            let all = String(decoding: try RawHTTP.get(port: upstream.port, "/_fixture/gosum").body, as: UTF8.self)
            let workspace = TemporaryDirectory()
            try workspace.write("go.sum", all)
            let agentForThread = agent
            let path = workspace.path + "/go.sum"
            let prefetch = Thread.detachedResult { try Self.prefetch(agentForThread, [path]) }
            #expect(eventually { (try? upstream.totalRequests()) ?? 0 >= 2 })

            // Not in the go.sum: nothing prefetch would fetch.
            let client = try agent.get("/example.com/graph/m001/@v/list")
            #expect(client.status == 200)
            let fetchedByThen = try upstream.totalRequests()
            #expect(fetchedByThen < 30, "the client waited for \(fetchedByThen) prefetch downloads")

            // A zip the prefetch will get to: the client's request and the prefetch share one download.
            let zip = "/example.com/graph/m019/@v/v1.0.0.zip"
            #expect(try agent.get(zip).status == 200)
            let finished = try prefetch.wait()
            #expect(finished.status == 0, "\(finished)")
            #expect(try upstream.requests(for: zip) == 1)
            #expect(agent.terminate() == 0)
        }

        @Test func theEndpointRefusesWhatIsNotAWorkspace() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
            let get = try agent.get("/-/prefetch")
            #expect(get.status == 405)
            #expect(get.header("Allow") == "POST")
            let bad = try RawHTTP.post(
                port: agent.port, "/-/prefetch", body: Array("not json".utf8), headers: agent.controlAuthorization)
            #expect(bad.status == 400)
            #expect(bad.text.contains("expected a JSON object"))
            let empty = try RawHTTP.post(
                port: agent.port, "/-/prefetch", body: Array(#"{"files": []}"#.utf8), headers: agent.controlAuthorization)
            #expect(empty.status == 400)
            // A go.mod that does not parse is reported with file and line, as the last event.
            let broken = try RawHTTP.post(
                port: agent.port, "/-/prefetch",
                body: Array(#"{"files": [{"path": "/w/go.mod", "content": "module m\nrequire (\n"}]}"#.utf8),
                headers: agent.controlAuthorization)
            #expect(broken.status == 200)
            #expect(broken.header("Content-Type") == "application/x-ndjson")
            #expect(broken.text.contains(#""kind":"problem""#))
            #expect(broken.text.contains("/w/go.mod:2: unterminated block"))
            #expect(broken.text.split(separator: "\n").last?.contains(#""kind":"done""#) == true)
            #expect(agent.terminate() == 0)
        }

        @Test func aMissingAgentIsExitStatusTwoWithAHint() throws {
            let workspace = TemporaryDirectory()
            try workspace.write("go.mod", Self.goMod)
            let result = try ChildProcess.run(
                Paths.goedge, ["prefetch", "--config", "/dev/null", "--agent", "http://127.0.0.1:1", workspace.path])
            #expect(result.status == 2, "\(result)")
            #expect(result.errorOutput.contains("cannot reach the agent at http://127.0.0.1:1"), "\(result)")
            let nothing = try ChildProcess.run(Paths.goedge, ["prefetch", "--config", "/dev/null", "/nonexistent"])
            #expect(nothing.status != 0)
            #expect(nothing.errorOutput.contains("/nonexistent: no such file or folder"), "\(nothing)")
        }
    }
}
