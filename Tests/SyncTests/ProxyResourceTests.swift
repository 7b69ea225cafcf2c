import Testing

@testable import GoModules
@testable import Upstream
@testable import ModuleProxy
@testable import Prefetch
@testable import CacheAdmin
@testable import FolderWatch

@Suite struct ProxyResourceTests {
    private func module(_ escaped: String) throws -> ModulePath { try ModulePath(escaped: escaped) }
    private func version(_ escaped: String) throws -> ModuleVersion { try ModuleVersion(escaped: escaped) }

    @Test func escapesUpstreamPathsAsTheGoCommandDoes() throws {
        let zip = ProxyResource.zip(try module("example.com/!upper"), try version("v1.5.3-!p!r!e"))
        #expect(zip.upstreamPath == "example.com/%21upper/@v/v1.5.3-%21p%21r%21e.zip")
        let incompatible = ProxyResource.info(try module("example.com/m"), try version("v2.0.0+incompatible"))
        #expect(incompatible.upstreamPath == "example.com/m/@v/v2.0.0+incompatible.info")
        let odd = ProxyResource.info(try module("example.com/m"), try ModuleVersion("branch name#1"))
        #expect(odd.upstreamPath == "example.com/m/@v/branch%20name%231.info")
    }

    @Test func knowsWhatNeverChanges() throws {
        let m = try module("example.com/m")
        #expect(ProxyResource.zip(m, try version("v1.0.0")).lifetime == .immutable)
        #expect(ProxyResource.mod(m, try version("v1.0.0")).lifetime == .immutable)
        #expect(ProxyResource.info(m, try version("v1.0.0")).lifetime == .immutable)
        #expect(ProxyResource.info(m, try version("master")).lifetime == .moduleMetadata)
        #expect(ProxyResource.list(m).lifetime == .moduleMetadata)
        #expect(ProxyResource.latest(m).lifetime == .moduleMetadata)
        let lookup = try #require(SumdbRequest(path: "sum.golang.org/lookup/example.com/m@v1.0.0"))
        #expect(ProxyResource.sumdb(lookup).lifetime == .immutable)
        #expect(ProxyResource.sumdb(try #require(SumdbRequest(path: "sum.golang.org/tile/8/1/x001/234.p/7"))).lifetime == .immutable)
        #expect(ProxyResource.sumdb(try #require(SumdbRequest(path: "sum.golang.org/latest"))).lifetime == .checksumDatabaseState)
    }

    @Test func storesAVersionsFilesInOneGroup() throws {
        let m = try module("example.com/m")
        let v = try version("v1.0.0")
        let groups = Set([ProxyResource.info(m, v), .mod(m, v), .zip(m, v)].compactMap { $0.cacheKey?.group })
        #expect(groups.count == 1)
        #expect(ProxyResource.info(m, try version("master")).cacheKey?.group != groups.first)
        #expect(ProxyResource.zip(m, v).negativeCacheKey != ProxyResource.zip(m, v).cacheKey)
    }

    @Test(arguments: [
        "sum.golang.org/supported", "sum.golang.org/latest", "sum.golang.org/lookup/example.com/!m@v1.0.0",
        "sum.golang.org/tile/8/0/000", "sum.golang.org/tile/8/2/x123/x456/789", "sum.golang.org/tile/8/data/x001/002.p/5",
        "sum.golang.org/tile/8/0/001.p/255",
    ])
    func acceptsChecksumDatabasePaths(path: String) {
        #expect(SumdbRequest(path: Substring(path)) != nil)
    }

    /// A database is named by its verifier key, and a name may hold `/`
    /// (`sum.example.com/go`): the request is split where its endpoint begins.
    @Test func namesWithPathElementsAreSplitAtTheEndpoint() throws {
        let supported = try #require(SumdbRequest(path: "sum.example.com/go/supported"))
        #expect(supported.name == "sum.example.com/go" && supported.endpoint == .supported)
        let latest = try #require(SumdbRequest(path: "localhost.test/sumdb/latest"))
        #expect(latest.name == "localhost.test/sumdb" && latest.endpoint == .latest)
        let lookup = try #require(SumdbRequest(path: "sum.example.com/go/lookup/example.com/m@v1.0.0"))
        #expect(lookup.name == "sum.example.com/go")
        let tile = try #require(SumdbRequest(path: "sum.example.com/go/tile/8/0/x001/234.p/5"))
        #expect(tile.name == "sum.example.com/go" && tile.endpoint == .tile("tile/8/0/x001/234.p/5"))
        #expect(SumdbRequest.tileSize("tile/8/0/x001/234.p/5") == 160)
        #expect(SumdbRequest.tileSize("tile/8/1/000") == 8192)
        #expect(SumdbRequest.tileSize("tile/8/data/000") == nil)
        // Upper case is allowed in a note name.
        #expect(SumdbRequest(path: "Sum.golang.org/latest")?.name == "Sum.golang.org")
    }

    @Test(arguments: [
        "sum.golang.org", "sum.golang.org/lookup/example.com/m", "sum.golang.org/tile/8/0/12",
        "sum.golang.org/tile/8/0/x001", "sum.golang.org/tile/8/0/001.p/0", "sum.golang.org/tile/8/0/001.p/256",
        "sum.golang.org/tile/99/0/001", "sum.golang.org/tile/8/-1/001", "sum.golang.org/other", "/latest",
        // Names that could leave a folder or that no note name may hold.
        "sum.example.com/../latest", "sum.example.com//go/latest", "./latest", "sum+evil/latest", "sum example/latest",
        "sum%2e/latest", "a\\b/latest",
    ])
    func rejectsOtherPaths(path: String) {
        #expect(SumdbRequest(path: Substring(path)) == nil)
    }
}

@Suite struct CachedRecordTests {
    @Test func roundTrips() throws {
        let record = CachedRecord(
            status: 404, reason: "Not Found", contentType: "text/plain", etag: "\"x\"", lastModified: "Mon, 01 Jan 2024 00:00:00 GMT",
            body: Array("not found: x\n\nsecond paragraph".utf8))
        #expect(CachedRecord(decoding: record.encoded()) == record)
        let empty = CachedRecord(status: 200, reason: "OK", contentType: nil, body: [])
        #expect(CachedRecord(decoding: empty.encoded()) == empty)
    }

    @Test func refusesWhatIsNotARecord() {
        #expect(CachedRecord(decoding: Array("v1.0.0\nv1.1.0\n".utf8)) == nil)
        #expect(CachedRecord(decoding: Array("goedge-record 1\nstatus: 200\n".utf8)) == nil)
        #expect(CachedRecord(decoding: []) == nil)
    }

    @Test func dropsLineBreaksFromHeaderValues() throws {
        let hostile = CachedRecord(status: 200, reason: "OK\r\nInjected: yes", contentType: nil, body: [])
        let decoded = try #require(CachedRecord(decoding: hostile.encoded()))
        #expect(decoded.reason == "OKInjected: yes")
    }
}

@Suite struct FreshnessPolicyTests {
    let policy = FreshnessPolicy(moduleMetadataTTL: .seconds(300), notFoundTTL: .seconds(60), checksumDatabaseTTL: .seconds(30))
    let second: Int64 = 1_000_000_000

    @Test func metadataExpiresAfterItsTTL() {
        #expect(policy.isFresh(lifetime: .moduleMetadata, status: 200, storedAt: 0, now: 299 * second))
        #expect(!policy.isFresh(lifetime: .moduleMetadata, status: 200, storedAt: 0, now: 300 * second))
        #expect(!policy.isFresh(lifetime: .checksumDatabaseState, status: 200, storedAt: 0, now: 30 * second))
    }

    @Test func notFoundIsBriefWhateverTheResource() {
        #expect(policy.isFresh(lifetime: .immutable, status: 404, storedAt: 0, now: 59 * second))
        #expect(!policy.isFresh(lifetime: .immutable, status: 410, storedAt: 0, now: 60 * second))
        #expect(!policy.isFresh(lifetime: .moduleMetadata, status: 404, storedAt: 0, now: 61 * second))
    }

    @Test func immutableNeverExpiresAndAClockGoingBackMakesThingsStale() {
        #expect(policy.isFresh(lifetime: .immutable, status: 200, storedAt: 0, now: 10 * 365 * 86400 * second))
        #expect(!policy.isFresh(lifetime: .moduleMetadata, status: 200, storedAt: 100 * second, now: 0))
    }
}
