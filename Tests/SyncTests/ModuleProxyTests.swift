import LRUCache
import ProxyTestSupport
import Testing
import Upstream

@testable import GoModules
@testable import ModuleProxy

/// The caching proxy's logic, in-process: a scripted upstream and a clock
/// the test moves, so that freshness, single flight, what is stored and
/// what is passed through are checked deterministically, without sleeping
/// and without sockets. (The real go command against the real agent and a
/// real upstream is the integration tests' contract.)
@Suite struct ModuleProxyTests {
    let module = try! ModulePath("example.com/m")
    var version: ModuleVersion { try! ModuleVersion("v1.0.0") }

    private func answer(_ harness: ProxyHarness, _ resource: ProxyResource, verify: String? = nil) async -> ProxyAnswer {
        await harness.proxy.answer(ProxyRequest(resource), priority: .client, verify: verify)
    }

    // MARK: Freshness

    @Test func aVersionListIsFreshForItsTTLThenRevalidated() async throws {
        let harness = try ProxyHarness(freshness: FreshnessPolicy(moduleMetadataTTL: .seconds(300)))
        harness.upstream.script(
            "example.com/m/@v/list", .init(headers: [("etag", "\"one\"")], body: Array("v1.0.0\n".utf8)))
        let first = await answer(harness, .list(module))
        #expect(first.status == 200 && first.cacheStatus == .miss && first.bodyBytes == Array("v1.0.0\n".utf8))

        harness.clock.advance(by: .seconds(299))
        #expect(await answer(harness, .list(module)).cacheStatus == .hit)
        #expect(harness.upstream.requestCount("example.com/m/@v/list") == 1)

        // Past its TTL: asked again, conditionally; "not modified" makes it fresh again.
        harness.clock.advance(by: .seconds(2))
        harness.upstream.script("example.com/m/@v/list", .init(status: 304, body: []))
        let revalidated = await answer(harness, .list(module))
        #expect(revalidated.cacheStatus == .revalidated && revalidated.bodyBytes == Array("v1.0.0\n".utf8))
        let conditional = harness.upstream.requests.last!
        #expect(conditional.headers.contains { $0.name == "If-None-Match" && $0.value == "\"one\"" })
        #expect(await answer(harness, .list(module)).cacheStatus == .hit)
        #expect(harness.upstream.requestCount("example.com/m/@v/list") == 2)
    }

    @Test func aStaleAnswerIsServedWhenTheUpstreamFails() async throws {
        let harness = try ProxyHarness(freshness: FreshnessPolicy(moduleMetadataTTL: .seconds(60)))
        harness.upstream.script("example.com/m/@latest", .init(body: Array("{\"Version\":\"v1.0.0\"}".utf8)))
        _ = await answer(harness, .latest(module))
        harness.clock.advance(by: .seconds(61))
        harness.upstream.failEverything("connection refused")
        let stale = await answer(harness, .latest(module))
        #expect(stale.status == 200 && stale.cacheStatus == .stale)
        #expect(stale.warning == "110 goedge \"Response is Stale\"")
    }

    @Test func notFoundIsRememberedBriefly() async throws {
        let harness = try ProxyHarness(freshness: FreshnessPolicy(notFoundTTL: .seconds(60)))
        let path = "example.com/m/@v/v1.0.0.mod"
        #expect(await answer(harness, .mod(module, version)).status == 404)
        let remembered = await answer(harness, .mod(module, version))
        #expect(remembered.status == 404 && remembered.cacheStatus == .negative)
        #expect(harness.upstream.requestCount(path) == 1)
        harness.clock.advance(by: .seconds(61))
        harness.upstream.script(path, .init(body: Array("module example.com/m\n".utf8)))
        #expect(await answer(harness, .mod(module, version)).status == 200)
        #expect(harness.upstream.requestCount(path) == 2)
    }

    // MARK: Single flight

    @Test func concurrentMissesShareOneFetch() async throws {
        let harness = try ProxyHarness()
        let zip = try ZipMaker.module("example.com/m", "v1.0.0")
        harness.upstream.script("example.com/m/@v/v1.0.0.zip", .init(body: zip))
        harness.upstream.hold()
        let proxy = harness.proxy
        let resource = ProxyResource.zip(module, version)
        let answers = Task {
            await withTaskGroup(of: [UInt8]?.self) { group in
                for _ in 0..<5 {
                    group.addTask {
                        let answer = await proxy.answer(ProxyRequest(resource))
                        return answer.status == 200 ? answer.bodyBytes : nil
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
        }
        await harness.upstream.waitForRequests(1)
        harness.upstream.release()
        let bodies = await answers.value
        #expect(bodies.count == 5 && bodies.allSatisfy { $0 == zip })
        #expect(harness.upstream.requestCount("example.com/m/@v/v1.0.0.zip") == 1)
    }

    /// A client that stops waiting (its request timed out) leaves at once;
    /// the fetch goes on and serves the others.
    @Test func aWaiterThatIsCancelledLeavesWithoutStoppingTheFetch() async throws {
        let harness = try ProxyHarness()
        harness.upstream.script("example.com/m/@v/v1.0.0.mod", .init(body: Array("module example.com/m\n".utf8)))
        harness.upstream.hold()
        let proxy = harness.proxy
        let request = ProxyRequest(.mod(module, version))
        let impatient = Task { await proxy.answer(request) }
        let patient = Task { await proxy.answer(request) }
        await harness.upstream.waitForRequests(1)
        impatient.cancel()
        let gaveUp = await impatient.value
        #expect(gaveUp.status == 504)
        harness.upstream.release()
        let served = await patient.value
        #expect(served.status == 200 && served.bodyBytes == Array("module example.com/m\n".utf8))
        #expect(harness.store.lookup(request.cacheKey!) != nil)
    }

    /// A client that comes to wait for a background fetch (read-ahead,
    /// prefetch) promotes it past the background queue.
    @Test func aClientJoiningABackgroundFetchPromotesIt() async throws {
        let harness = try ProxyHarness()
        harness.upstream.script("example.com/m/@v/v1.0.0.mod", .init(body: Array("module example.com/m\n".utf8)))
        harness.upstream.hold()
        let proxy = harness.proxy
        let request = ProxyRequest(.mod(module, version))
        let background = Task { await proxy.answer(request, priority: .background) }
        await harness.upstream.waitForRequests(1)
        let client = Task { await proxy.answer(request, priority: .client) }
        while harness.upstream.promotions == 0 { await Task.yield() }
        harness.upstream.release()
        #expect(await client.value.status == 200)
        #expect(await background.value.status == 200)
        #expect(harness.upstream.requests.count == 1)
    }

    // MARK: What is kept

    @Test func aCompleteSoundFileIsStoredOnce() async throws {
        let harness = try ProxyHarness()
        let zip = try ZipMaker.module("example.com/m", "v1.0.0", files: [("go.mod", ""), ("m.go", "package m\n")])
        harness.upstream.script("example.com/m/@v/v1.0.0.zip", .init(body: zip))
        let first = await answer(harness, .zip(module, version))
        #expect(first.cacheStatus == .miss && first.failure == nil)
        _ = consume first
        let again = await answer(harness, .zip(module, version))
        #expect(again.cacheStatus == .hit && again.bodyBytes == zip)
        _ = consume again
        #expect(harness.upstream.requests.count == 1)
    }

    /// A zip breaking the module zip rules reaches the client as the
    /// upstream sent it (the go command says what is wrong), and is never kept.
    @Test func aDamagedZipIsPassedThroughNotStored() async throws {
        let harness = try ProxyHarness()
        let zip = try ZipMaker.zip([("example.com/m@v1.0.0/go.mod", "module example.com/m\n"), ("outside.txt", "x")])
        harness.upstream.script("example.com/m/@v/v1.0.0.zip", .init(body: zip))
        for _ in 0..<2 {
            let answer = await answer(harness, .zip(module, version))
            #expect(answer.status == 200 && answer.cacheStatus == .passThrough && answer.bodyBytes == zip)
            guard case .damagedFile(_, _, let reason) = answer.failure else {
                Issue.record("expected a damaged-file failure, got \(String(describing: answer.failure))")
                return
            }
            #expect(reason.contains("outside.txt"))
            _ = consume answer
        }
        #expect(harness.upstream.requests.count == 2)
        #expect(harness.store.lookup(ProxyRequest(.zip(module, version)).cacheKey!) == nil)
    }

    /// A body whose end the protocol did not signal (HTTP/1.x, no length,
    /// not chunked) looks exactly like a cut one: served, not kept.
    @Test func aBodyWithoutASignalledEndIsNotStored() async throws {
        let harness = try ProxyHarness()
        harness.upstream.script("example.com/m/@v/v1.0.0.mod", .init(body: Array("module example.com/m\n".utf8), majorVersion: 1))
        let answer = await answer(harness, .mod(module, version))
        #expect(answer.status == 200 && answer.cacheStatus == .passThrough)
        _ = consume answer
        #expect(harness.store.lookup(ProxyRequest(.mod(module, version)).cacheKey!) == nil)
        // With a length, the same body is kept.
        harness.upstream.script(
            "example.com/m/@v/v1.0.0.mod",
            .init(headers: [("content-length", "21")], body: Array("module example.com/m\n".utf8), majorVersion: 1))
        #expect(await self.answer(harness, .mod(module, version)).cacheStatus == .miss)
        #expect(harness.store.lookup(ProxyRequest(.mod(module, version)).cacheKey!) != nil)
    }

    @Test func aGoModThatDoesNotParseIsNotStored() async throws {
        let harness = try ProxyHarness()
        harness.upstream.script("example.com/m/@v/v1.0.0.mod", .init(body: Array("<html>oops</html>".utf8)))
        let answer = await answer(harness, .mod(module, version))
        #expect(answer.cacheStatus == .passThrough)
        #expect(harness.store.lookup(ProxyRequest(.mod(module, version)).cacheKey!) == nil)
    }

    @Test func aTileOfTheWrongSizeIsNotStored() async throws {
        let harness = try ProxyHarness()
        let short = try #require(SumdbRequest(path: "sum.example.com/go/tile/8/0/001"))
        harness.upstream.script("sumdb/sum.example.com/go/tile/8/0/001", .init(body: [UInt8](repeating: 1, count: 100)))
        #expect(await answer(harness, .sumdb(short)).cacheStatus == .passThrough)
        let whole = try #require(SumdbRequest(path: "sum.example.com/go/tile/8/0/002"))
        harness.upstream.script("sumdb/sum.example.com/go/tile/8/0/002", .init(body: [UInt8](repeating: 1, count: 8192)))
        #expect(await answer(harness, .sumdb(whole)).cacheStatus == .miss)
        #expect(await answer(harness, .sumdb(whole)).cacheStatus == .hit)
    }

    /// Failures are types the prefetcher decides on, not text.
    @Test func aChecksumMismatchIsATypedFailureAndNotStored() async throws {
        let harness = try ProxyHarness()
        harness.upstream.script("example.com/m/@v/v1.0.0.mod", .init(body: Array("module example.com/m\n".utf8)))
        let answer = await answer(harness, .mod(module, version), verify: "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        #expect(answer.status == 502)
        guard case .checksumMismatch(let file, _, let actual) = answer.failure else {
            Issue.record("expected a checksum mismatch, got \(String(describing: answer.failure))")
            return
        }
        #expect(file == "example.com/m@v1.0.0/go.mod")
        #expect(actual == DirHash.goModHash(Array("module example.com/m\n".utf8)))
        #expect(harness.store.lookup(ProxyRequest(.mod(module, version)).cacheKey!) == nil)
    }

    @Test func anUnreachableUpstreamIsAnAnswerThatSaysSo() async throws {
        let harness = try ProxyHarness()
        harness.upstream.failEverything("connection refused")
        let answer = await answer(harness, .zip(module, version))
        #expect(answer.status == 502)
        guard case .unreachable(_, _, let reason) = answer.failure else {
            Issue.record("expected unreachable, got \(String(describing: answer.failure))")
            return
        }
        #expect(reason == "connection refused")
    }

    // MARK: What cannot be stored

    /// A file larger than the cache can hold reaches the client as it
    /// arrives, through bounded memory, never written to the disk; clients
    /// asking together share the one transfer.
    @Test func aFileTheCacheHasNoRoomForIsRelayedNotWritten() async throws {
        let harness = try ProxyHarness(maxSize: 64 << 10)
        let big = try ZipMaker.module("example.com/m", "v1.0.0", files: [("go.mod", ""), ("data.bin", random(300_000))])
        harness.upstream.script("example.com/m/@v/v1.0.0.zip", .init(headers: [("content-length", "\(big.count)")], body: big))
        harness.upstream.hold()
        let proxy = harness.proxy
        let request = ProxyRequest(.zip(module, version))
        let readers = (0..<3).map { _ in
            Task { () -> [UInt8]? in
                let answer = await proxy.answer(request)
                guard case .relay(let reader) = answer.body else { return nil }
                var bytes: [UInt8] = []
                while let chunk = try? await reader.next() { bytes += chunk }
                return bytes
            }
        }
        await harness.upstream.waitForRequests(1)
        harness.upstream.release()
        for reader in readers { #expect(await reader.value == big) }
        #expect(harness.upstream.requests.count == 1)
        #expect(harness.store.lookup(request.cacheKey!) == nil)
        #expect(harness.folder.files(under: "tmp").isEmpty)
        #expect(harness.folder.diskUsage() <= 64 << 10)
    }

    /// A module path too long to name a file is relayed too, and shared.
    @Test func aPathTooLongToStoreIsRelayed() async throws {
        let harness = try ProxyHarness()
        let long = try ModulePath("example.com/" + String(repeating: "a", count: 300))
        let path = "example.com/\(String(repeating: "a", count: 300))/@v/v1.0.0.mod"
        harness.upstream.script(path, .init(body: Array("module \(long.path)\n".utf8)))
        let answer = await answer(harness, .mod(long, version))
        guard case .relay(let reader) = answer.body else {
            Issue.record("expected a relayed body, got \(answer.body)")
            return
        }
        var bytes: [UInt8] = []
        while let chunk = try await reader.next() { bytes += chunk }
        #expect(bytes == Array("module \(long.path)\n".utf8))
        #expect(answer.cacheStatus == .passThrough)
    }

    private func random(_ count: Int) -> String {
        String((0..<count).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
    }

    // MARK: Read-ahead

    /// Turned off, a miss starts nothing more (read-ahead decides before the answer is returned).
    @Test func readAheadOffStartsNothing() async throws {
        let harness = try ProxyHarness(readAhead: false)
        harness.upstream.script("example.com/m/@v/v1.0.0.info", .init(body: Array("{\"Version\":\"v1.0.0\"}".utf8)))
        #expect(await answer(harness, .info(module, version)).status == 200)
        #expect(harness.proxy.readAhead.outstanding == 0)
        #expect(harness.upstream.requests.count == 1)
        let on = try ProxyHarness(readAhead: true)
        on.upstream.script("example.com/m/@v/v1.0.0.info", .init(body: Array("{\"Version\":\"v1.0.0\"}".utf8)))
        on.upstream.hold()
        let first = Task { await on.proxy.answer(.info(module, version)) }
        await on.upstream.waitForRequests(1)
        on.upstream.release()
        _ = await first.value
        #expect(on.proxy.readAhead.outstanding > 0 || on.upstream.requests.count > 1)
    }

    /// A client's `.info` brings its version's other files, in the background.
    @Test func anInfoMissReadsTheVersionsOtherFilesAhead() async throws {
        let harness = try ProxyHarness(readAhead: true)
        harness.upstream.script("example.com/m/@v/v1.0.0.info", .init(body: Array("{\"Version\":\"v1.0.0\"}".utf8)))
        harness.upstream.script("example.com/m/@v/v1.0.0.mod", .init(body: Array("module example.com/m\n".utf8)))
        harness.upstream.script("example.com/m/@v/v1.0.0.zip", .init(body: try ZipMaker.module("example.com/m", "v1.0.0")))
        #expect(await answer(harness, .info(module, version)).status == 200)
        await harness.upstream.waitForRequests(3)
        let readAhead = harness.upstream.requests.dropFirst()
        #expect(Set(readAhead.map(\.path)) == ["example.com/m/@v/v1.0.0.mod", "example.com/m/@v/v1.0.0.zip"])
        #expect(readAhead.allSatisfy { $0.priority == .background })
    }

    private func scriptVersion(_ harness: ProxyHarness, _ path: String, _ version: String, goMod: String) throws {
        let prefix = "\(path)/@v/\(version)"
        harness.upstream.script(prefix + ".info", .init(body: Array("{\"Version\":\"\(version)\"}".utf8)))
        harness.upstream.script(prefix + ".mod", .init(body: Array(goMod.utf8)))
        harness.upstream.script(prefix + ".zip", .init(body: try ZipMaker.module(path, version)))
    }

    /// As the go command's graph loading: below a pruned module (go >= 1.17)
    /// it reads no requirement's go.mod, so neither does read-ahead.
    @Test func aPrunedModulesRequirementsAreNotReadAhead() async throws {
        let harness = try ProxyHarness(readAhead: true)
        try scriptVersion(harness, "example.com/m", "v1.0.0", goMod: "module example.com/m\n\ngo 1.17\n\nrequire example.com/r v0.9.0\n")
        try scriptVersion(harness, "example.com/r", "v0.9.0", goMod: "module example.com/r\n\ngo 1.16\n")
        #expect(await answer(harness, .mod(module, version)).status == 200)
        await harness.upstream.waitForRequests(3)
        await harness.proxy.readAhead.settled()
        #expect(Set(harness.upstream.requests.map(\.path)) == [
            "example.com/m/@v/v1.0.0.mod", "example.com/m/@v/v1.0.0.info", "example.com/m/@v/v1.0.0.zip",
        ])
    }

    /// Below an unpruned module (go < 1.17) the go command reads every
    /// requirement's go.mod, and theirs, whatever their own go version.
    @Test func everythingBelowAnUnprunedModuleIsReadAhead() async throws {
        let harness = try ProxyHarness(readAhead: true)
        try scriptVersion(harness, "example.com/m", "v1.0.0", goMod: "module example.com/m\n\ngo 1.16\n\nrequire example.com/p v1.0.0\n")
        try scriptVersion(harness, "example.com/p", "v1.0.0", goMod: "module example.com/p\n\ngo 1.21\n\nrequire example.com/q v1.0.0\n")
        try scriptVersion(harness, "example.com/q", "v1.0.0", goMod: "module example.com/q\n\ngo 1.21\n")
        #expect(await answer(harness, .mod(module, version)).status == 200)
        await harness.upstream.waitForRequests(5)
        await harness.proxy.readAhead.settled()
        #expect(Set(harness.upstream.requests.map(\.path)) == [
            "example.com/m/@v/v1.0.0.mod", "example.com/m/@v/v1.0.0.info", "example.com/m/@v/v1.0.0.zip",
            "example.com/p/@v/v1.0.0.mod", "example.com/q/@v/v1.0.0.mod",
        ])
    }
    /// The go command reads the go.mod of versions it does not select (below
    /// an unpruned module, all of them) but downloads only the one it
    /// selects, at least the highest any go.mod it read requires: a version
    /// a go.mod read lately supersedes gets no .info or .zip read ahead.
    @Test func aVersionTheGraphSupersedesGetsNoZipReadAhead() async throws {
        let harness = try ProxyHarness(readAhead: true)
        try scriptVersion(harness, "example.com/m", "v1.0.0", goMod: "module example.com/m\n\ngo 1.17\n\nrequire example.com/r v1.2.0\n")
        try scriptVersion(harness, "example.com/r", "v1.1.0", goMod: "module example.com/r\n\ngo 1.17\n")
        try scriptVersion(harness, "example.com/r", "v1.2.0", goMod: "module example.com/r\n\ngo 1.17\n")
        #expect(await answer(harness, .mod(module, version)).status == 200)
        await harness.proxy.readAhead.settled()
        // What an unpruned module below would make the go command read: the older go.mod alone.
        let older = await answer(harness, .mod(try ModulePath("example.com/r"), try ModuleVersion("v1.1.0")))
        #expect(older.status == 200 && older.cacheStatus == .miss)
        let selected = await answer(harness, .mod(try ModulePath("example.com/r"), try ModuleVersion("v1.2.0")))
        #expect(selected.status == 200 && selected.cacheStatus == .miss)
        await harness.upstream.waitForRequests(7)
        await harness.proxy.readAhead.settled()
        #expect(harness.upstream.requestCount("example.com/r/@v/v1.1.0.zip") == 0)
        #expect(harness.upstream.requestCount("example.com/r/@v/v1.1.0.info") == 0)
        #expect(harness.upstream.requestCount("example.com/r/@v/v1.2.0.zip") == 1)
        #expect(harness.upstream.requestCount("example.com/r/@v/v1.2.0.info") == 1)
    }
}
