import Foundation
import Testing
import TestSupport

extension Integration {
    /// Read-ahead: what a client asks for next is on its way before it asks.
    @Suite struct ReadAhead {
        static let info = "/example.com/hello/@v/v1.3.0.info"
        /// What asking for hello v1.3.0's .info brings: its other files. Not
        /// the go.mod of what it requires: hello is at go 1.17, pruned, and
        /// the go command reads no further below it (in-process tests cover
        /// the unpruned case).
        static let readAhead = ["example.com/hello/@v/v1.3.0/mod", "example.com/hello/@v/v1.3.0/zip"]

        @Test func anInfoBringsItsVersionsFiles() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
            #expect(try agent.get(Self.info).status == 200)
            #expect(eventually { Set(CacheBehaviour.storedFiles(cache)).isSuperset(of: Self.readAhead) }, "\(CacheBehaviour.storedFiles(cache))")

            // The client's next requests are answered from the cache: each file crossed the wire once.
            for path in ["/example.com/hello/@v/v1.3.0.mod", "/example.com/hello/@v/v1.3.0.zip"] {
                let answer = try agent.get(path)
                #expect(answer.status == 200 && answer.header("X-Cache") == "hit", "\(path): \(answer)")
                #expect(try upstream.requests(for: path) == 1)
            }
            #expect(agent.terminate() == 0)
            #expect(try upstream.requests(for: "/example.com/dep/@v/v1.0.1.mod") == 0)
            #expect(agent.log.contains("files_read_ahead=2"), "\(agent.log)")
            #expect(agent.log.contains("read_ahead_used=2"), "\(agent.log)")
        }

        @Test func itCanBeTurnedOff() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--no-read-ahead"])
            #expect(try agent.get(Self.info).status == 200)
            #expect(try agent.get("/example.com/hello/@v/v1.3.0.mod").status == 200)
            #expect(agent.terminate() == 0)
            // Stopped: nothing more can happen. (That read-ahead starts nothing when off is tested in-process.)
            #expect(CacheBehaviour.storedFiles(cache).sorted() == ["example.com/hello/@v/v1.3.0/info", "example.com/hello/@v/v1.3.0/mod"])
            #expect(agent.log.contains("files_read_ahead=0"), "\(agent.log)")
        }

        /// A cold `go mod download all` with read-ahead gives what the upstream gives.
        @Test func aColdDownloadIsUnchanged() throws {
            let upstream = try GoProxyFixture()
            let workspace = try Prefetch.workspace(upstream: upstream, tidy: true)
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
            let home = TemporaryDirectory()
            let go = GoCommand(proxy: agent.url, home: home.path)
            let downloaded = try go.run(["mod", "download", "-json", "all"], in: workspace.path)
            #expect(downloaded.status == 0, "\(downloaded)")
            let verified = try go.run(["mod", "verify"], in: workspace.path)
            #expect(verified.status == 0 && verified.output.contains("all modules verified"), "\(verified)")
            #expect(agent.terminate() == 0)
        }
    }
}
