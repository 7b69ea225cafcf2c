import Synchronization
import Testing

@testable import GoModules
@testable import ModuleProxy
@testable import Prefetch

/// A prefetch's walk, apart from where its files come from: the seam the
/// agent's proxy and `goedge prefetch`'s module protocol source both fill.
@Suite struct PrefetchJobTests {
    /// Files by protocol path; what is not there fails as a 404 would.
    final class TableSource: PrefetchSource {
        let files: [String: String]
        private let asked = Mutex<[String]>([])
        var requests: [String] { asked.withLock { $0 } }

        init(_ files: [String: String]) {
            self.files = files
        }

        func fetch(_ resource: ProxyResource, expectedHash: String?, keepBytes: Bool) async -> PrefetchFetch {
            let path = resource.protocolPath
            asked.withLock { $0.append(path) }
            guard let content = files[path] else { return .failed("\(path): 404 Not Found") }
            if let expectedHash, resource.isMod, DirHash.goModHash(Array(content.utf8)) != expectedHash {
                return .failed("\(resource.checksumName): mismatch")
            }
            return .stored(fetchedNow: true, bytes: Int64(content.utf8.count), body: keepBytes ? Array(content.utf8) : nil)
        }

        func versions(of module: ModulePath) async -> [ModuleVersion]? {
            files[ProxyResource.list(module).protocolPath].map { ModuleVersion.listed(in: Array($0.utf8)) }
        }
    }

    static func files(_ goMod: String, goSum: String? = nil) -> WorkspaceFiles {
        WorkspaceFiles(files: [.init(path: "/app/go.mod", content: goMod)] + (goSum.map { [.init(path: "/app/go.sum", content: $0)] } ?? []))
    }

    /// A file that fails ends its chain: a zip that is missing brings no
    /// `.info` request after it; the other chains go on, and the summary
    /// lists the failure.
    @Test func aFailedFileEndsItsChainOnly() async throws {
        let depMod = "module example.com/dep\n"
        let goSum = """
            example.com/dep v1.0.0/go.mod \(DirHash.goModHash(Array(depMod.utf8)))
            example.com/gone v1.0.0 h1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=

            """
        let source = TableSource(["example.com/dep/@v/v1.0.0.mod": depMod])
        let events = Mutex<[PrefetchEvent]>([])
        let summary = await PrefetchJob(source: source, concurrency: 1).run(
            Self.files("module example.org/app\n\ngo 1.21\n", goSum: goSum)
        ) { event in events.withLock { $0.append(event) } }
        #expect(source.requests == ["example.com/dep/@v/v1.0.0.mod", "example.com/gone/@v/v1.0.0.zip"])
        #expect(summary.files == 2 && summary.fetched == 1 && summary.failed == 1)
        #expect(summary.failures == ["example.com/gone/@v/v1.0.0.zip: 404 Not Found"])
        #expect(events.withLock { $0.last?.kind } == .done)
        #expect(events.withLock { $0.first { $0.kind == .plan }?.planned } == 3)
    }

    /// A requirement go.sum does not list: the graph is walked through the
    /// source (go.mod files, and a version list for a query), each selected
    /// version's `.mod`, `.zip` and `.info` fetched once.
    @Test func anUnlistedRequirementIsWalkedThroughTheSource() async throws {
        let source = TableSource([
            "example.com/a/@v/v1.0.0.mod": "module example.com/a\n\ngo 1.21\n\nrequire example.com/b v1.1.0\n",
            "example.com/a/@v/v1.0.0.zip": "zip",
            "example.com/a/@v/v1.0.0.info": "{}",
            "example.com/b/@v/v1.1.0.mod": "module example.com/b\n",
            "example.com/b/@v/v1.1.0.zip": "zip",
            "example.com/b/@v/v1.1.0.info": "{}",
        ])
        let summary = await PrefetchJob(source: source, concurrency: 1).run(
            Self.files("module example.org/app\n\ngo 1.21\n\nrequire example.com/a v1.0.0\n")
        ) { _ in }
        #expect(summary.failures.isEmpty, "\(summary.failures)")
        #expect(summary.modules == 2 && summary.files == 6)
        #expect(Set(source.requests) == Set(source.files.keys))
        #expect(source.requests.count == 6, "\(source.requests)")
    }
}
