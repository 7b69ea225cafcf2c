import Synchronization
import Testing
import ProxyTestSupport

@testable import ChecksumDatabase
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
            asked.withLock { $0.append(ProxyResource.list(module).protocolPath) }
            return files[ProxyResource.list(module).protocolPath].map { ModuleVersion.listed(in: Array($0.utf8)) }
        }

        func checksumDatabase(named name: String) -> any ChecksumDatabaseFetching {
            TableDatabase(source: self, name: name)
        }

        struct TableDatabase: ChecksumDatabaseFetching {
            let source: TableSource
            let name: String

            func fetch(endpoint: String) async -> ChecksumDatabaseAnswer {
                let path = "sumdb/\(name)/\(endpoint)"
                source.asked.withLock { $0.append(path) }
                return source.files[path].map { .found(Array($0.utf8)) } ?? .notFound
            }
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

    /// A checksum database at its own URL: the go command asks it directly,
    /// so the job reads nothing of it (and needs a real key only to parse).
    static let directDatabase = ScriptedChecksumDatabase().keyText + " https://sum.example.invalid"

    static func facts(_ setting: String = "auto", version: String = "go1.21.0", sumdb: String = directDatabase) -> GoCommandFacts {
        GoCommandFacts(version: version, toolchainSetting: setting, platform: "linux-amd64", checksumDatabase: sumdb)
    }

    /// The toolchain the go line names is fetched (`.mod`, `.zip`, `.info`),
    /// and the summary says which and why; a go command that needs none, or
    /// predates switching, gets nothing fetched and the reason.
    @Test func theToolchainTheGoCommandSwitchesToIsWarmed() async throws {
        let toolchain = "golang.org/toolchain/@v/v0.0.1-go1.22.0.linux-amd64"
        let source = TableSource([toolchain + ".mod": "module golang.org/toolchain\n", toolchain + ".zip": "zip", toolchain + ".info": "{}"])
        var files = Self.files("module example.org/app\n\ngo 1.22\n")
        files.goCommand = Self.facts()
        let summary = await PrefetchJob(source: source, concurrency: 1).run(files) { _ in }
        #expect(summary.failures.isEmpty, "\(summary.failures)")
        #expect(source.requests == [toolchain + ".mod", toolchain + ".zip", toolchain + ".info"])
        #expect(summary.toolchains == ["warmed go1.22.0 for linux-amd64 (the go line in /app/go.mod)"])

        for (facts, reason) in [
            (Self.facts(version: "go1.27.3"), "none to warm: go1.27.3 satisfies the workspace (GOTOOLCHAIN=auto)"),
            (Self.facts("local"), "none to warm: go1.21.0 satisfies the workspace (GOTOOLCHAIN=local)"),
            (Self.facts(version: "go1.19.8"), "none to warm: go1.19.8 predates toolchain switching (Go 1.21)"),
        ] {
            let quiet = TableSource([:])
            files.goCommand = facts
            let none = await PrefetchJob(source: quiet, concurrency: 1).run(files) { _ in }
            #expect(quiet.requests.isEmpty && none.failures.isEmpty)
            #expect(none.toolchains == [reason])
        }
        // Without facts (no go command on the client's PATH) the job says nothing of toolchains.
        files.goCommand = nil
        #expect(await PrefetchJob(source: TableSource([:]), concurrency: 1).run(files) { _ in }.toolchains == nil)
    }

    /// A workspace module whose go line is above the go.work's: the newest
    /// suitable release in the proxy's toolchain list, as `go work use` picks it.
    @Test func aWorkspaceNeedingMoreThanItsGoWorkResolvesThroughTheList() async throws {
        let chosen = "golang.org/toolchain/@v/v0.0.1-go1.22.3.linux-amd64"
        let source = TableSource([
            "golang.org/toolchain/@v/list": "v0.0.1-go1.21.0.linux-amd64\nv0.0.1-go1.22.0.linux-amd64\nv0.0.1-go1.22.3.windows-amd64\nv0.0.1-go1.22.3.linux-amd64\nv0.0.1-go1.23rc1.linux-amd64\n",
            chosen + ".mod": "module golang.org/toolchain\n", chosen + ".zip": "zip", chosen + ".info": "{}",
        ])
        let files = WorkspaceFiles(
            files: [
                .init(path: "/w/go.work", content: "go 1.21\n\nuse ./a\n"),
                .init(path: "/w/a/go.mod", content: "module example.org/a\n\ngo 1.22\n"),
            ], goCommand: Self.facts())
        let summary = await PrefetchJob(source: source, concurrency: 1).run(files) { _ in }
        #expect(summary.failures.isEmpty, "\(summary.failures)")
        #expect(source.requests == ["golang.org/toolchain/@v/list", chosen + ".mod", chosen + ".zip", chosen + ".info"])
        #expect(summary.toolchains?.first?.hasPrefix("warmed go1.22.3 for linux-amd64") == true, "\(summary.toolchains ?? [])")
    }

    /// GOSUMDB=off: the go command will refuse any toolchain, so nothing is
    /// fetched and the prefetch fails saying why; a record the database does
    /// not have is a failure too, and no file of the toolchain is fetched.
    @Test func aToolchainIsWarmedOnlyWhereTheGoCommandCanCheckIt() async throws {
        var files = Self.files("module example.org/app\n\ngo 1.22\n")
        files.goCommand = Self.facts(sumdb: "off")
        let source = TableSource([:])
        let off = await PrefetchJob(source: source, concurrency: 1).run(files) { _ in }
        #expect(source.requests.isEmpty)
        #expect(off.failures.count == 1 && off.failures[0].hasPrefix("GOSUMDB=off"), "\(off.failures)")

        let database = ScriptedChecksumDatabase()
        files.goCommand = Self.facts(sumdb: database.keyText)
        let unknown = TableSource([:])
        let missing = await PrefetchJob(source: unknown, concurrency: 1).run(files) { _ in }
        #expect(unknown.requests == [
            "sumdb/\(database.name)/supported", "sumdb/\(database.name)/lookup/golang.org/toolchain@v0.0.1-go1.22.0.linux-amd64",
        ])
        #expect(missing.failed == 1, "\(missing.failures)")
    }
}
