import ChecksumDatabase
import Foundation
import GoModules
import ModuleProxy
import ProxyTestSupport
import Testing
import TestSupport

/// The chain of sources with a fleet's store in front of the upstream,
/// in-process, for what a real store cannot do on demand: bodies cut
/// midway, a 503 SlowDown, objects that are not what the checksum database
/// records. (The real store, Ceph, is tested in Integration.Fleet.)
@Suite struct SharedTierTests {
    let module = try! ModulePath("example.com/m")
    let version = try! ModuleVersion("v1.0.0")
    let goMod = Array("module example.com/m\n\ngo 1.17\n".utf8)

    struct Setup {
        let harness: ProxyHarness
        let shared: ScriptedSharedStore
        let zip: [UInt8]
        let database: ScriptedChecksumDatabase
    }

    /// A proxy whose checksum database records example.com/m v1.0.0's real hashes, with a scripted store in front.
    func setup(notCovered: String = "") throws -> Setup {
        let database = ScriptedChecksumDatabase()
        let shared = ScriptedSharedStore()
        let harness = try ProxyHarness(
            dating: .checksumDatabase(database.setting, notCovered: ModulePrefixPatterns(notCovered), direct: nil), shared: shared)
        let zip = try ZipMaker.module("example.com/m", "v1.0.0", files: [("go.mod", String(decoding: goMod, as: UTF8.self)), ("m.go", "package m\n")])
        let file = harness.folder.path + "/m.zip"
        try Data(zip).write(to: URL(fileURLWithPath: file))
        database.append("example.com/m", "v1.0.0", zipHash: try DirHash.zipHash(path: file), goModHash: DirHash.goModHash(goMod), on: harness.upstream)
        harness.upstream.script("example.com/m/@v/v1.0.0.mod", .init(body: goMod))
        harness.upstream.script("example.com/m/@v/v1.0.0.zip", .init(body: zip))
        harness.upstream.script("example.com/m/@v/v1.0.0.info", .init(body: Array(#"{"Version":"v1.0.0"}"#.utf8)))
        return Setup(harness: harness, shared: shared, zip: zip, database: database)
    }

    @Test func whatTheFleetHasIsServedFromItOnceItVerifies() async throws {
        let setup = try setup()
        setup.shared.script("example.com/m/@v/v1.0.0.mod", .object(goMod))
        setup.shared.script("example.com/m/@v/v1.0.0.zip", .object(setup.zip))
        let mod = await setup.harness.proxy.answer(.mod(module, version))
        #expect(mod.status == 200 && mod.bodyBytes == goMod)
        let zip = await setup.harness.proxy.answer(.zip(module, version))
        #expect(zip.status == 200 && zip.bodyBytes == setup.zip)
        #expect(setup.harness.upstream.requestCount("example.com/m/@v/v1.0.0.zip") == 0)
        #expect(setup.harness.upstream.requestCount("example.com/m/@v/v1.0.0.mod") == 0)
        #expect(setup.shared.rejectedPaths.isEmpty)
        // What came from the fleet is not written back to it (the database's lookup, from the database, is).
        #expect(Array(setup.shared.offered.keys) == ["sumdb/local.test/lookup/example.com/m@v1.0.0"])
        // Cached here now: the store is not asked again.
        let asked = setup.shared.asked.count
        #expect(await setup.harness.proxy.answer(.zip(module, version)).cacheStatus == .hit)
        #expect(setup.shared.asked.count == asked)
    }

    /// Anyone who can write the bucket can put anything there.
    @Test func whatTheChecksumDatabaseDoesNotRecordIsRefused() async throws {
        let setup = try setup()
        let other = try ZipMaker.module("example.com/m", "v1.0.0", files: [("go.mod", String(decoding: goMod, as: UTF8.self)), ("m.go", "package m\n\nfunc Backdoor() {}\n")])
        setup.shared.script("example.com/m/@v/v1.0.0.zip", .object(other))
        setup.shared.script("example.com/m/@v/v1.0.0.mod", .object(Array("module example.com/m\n".utf8)))
        setup.shared.script("example.com/m/@v/v1.0.0.info", .object(Array(#"{"Version":"v9.9.9"}"#.utf8)))
        #expect(await setup.harness.proxy.answer(.zip(module, version)).bodyBytes == setup.zip)
        #expect(await setup.harness.proxy.answer(.mod(module, version)).bodyBytes == goMod)
        #expect(await setup.harness.proxy.answer(.info(module, version)).bodyBytes == Array(#"{"Version":"v1.0.0"}"#.utf8))
        let rejected = setup.shared.rejectedPaths
        #expect(rejected["example.com/m/@v/v1.0.0.zip"]?.contains("is not the checksum database's") == true, "\(rejected)")
        #expect(rejected["example.com/m/@v/v1.0.0.mod"]?.contains("is not the checksum database's") == true, "\(rejected)")
        #expect(rejected["example.com/m/@v/v1.0.0.info"]?.contains("does not name v1.0.0") == true, "\(rejected)")
        #expect(setup.harness.upstream.requestCount("example.com/m/@v/v1.0.0.zip") == 1)
    }

    /// A body cut midway, a 503 SlowDown, no answer: the upstream is asked, the client never notices.
    @Test func aStoreThatFailsFallsBackToTheUpstream() async throws {
        for answer: ScriptedSharedStore.Answer in [
            .object(try ZipMaker.module("example.com/m", "v1.0.0", files: [("go.mod", "module example.com/m\n")]), cutAfter: 100),
            .status(503, body: "<Error><Code>SlowDown</Code></Error>"), .unreachable,
        ] {
            let setup = try setup()
            setup.shared.script("example.com/m/@v/v1.0.0.zip", answer)
            let zip = await setup.harness.proxy.answer(.zip(module, version))
            #expect(zip.status == 200 && zip.bodyBytes == setup.zip, "\(answer)")
            #expect(setup.harness.upstream.requestCount("example.com/m/@v/v1.0.0.zip") == 1)
        }
    }

    /// What came from the upstream and was kept is written behind; changing answers never are.
    @Test func filesFromTheUpstreamAreWrittenBehind() async throws {
        let setup = try setup()
        setup.harness.upstream.script("example.com/m/@v/list", .init(body: Array("v1.0.0\n".utf8)))
        #expect(await setup.harness.proxy.answer(.zip(module, version)).status == 200)
        #expect(await setup.harness.proxy.answer(.mod(module, version)).status == 200)
        #expect(await setup.harness.proxy.answer(.list(module)).status == 200)
        // With the checksum database's lookup, asked beside the store's miss.
        #expect(
            setup.shared.offered == [
                "example.com/m/@v/v1.0.0.zip": setup.zip, "example.com/m/@v/v1.0.0.mod": goMod,
                "sumdb/local.test/lookup/example.com/m@v1.0.0": setup.database.lookupAnswer("example.com/m", "v1.0.0")!,
            ])
        #expect(!setup.shared.asked.contains("example.com/m/@v/list"))
    }

    /// Modules no checksum database covers (private ones) get the upstream's checks only.
    @Test func modulesTheDatabaseDoesNotCoverGetTheUpstreamsChecksOnly() async throws {
        let setup = try setup(notCovered: "example.com/private")
        let privateModule = try ModulePath("example.com/private")
        let privateMod = Array("module example.com/private\n".utf8)
        setup.shared.script("example.com/private/@v/v1.0.0.mod", .object(privateMod))
        let mod = await setup.harness.proxy.answer(.mod(privateModule, version))
        #expect(mod.status == 200 && mod.bodyBytes == privateMod)
        #expect(setup.harness.upstream.requestCount("example.com/private/@v/v1.0.0.mod") == 0)
    }

    /// The checksum database's lookups are kept in the fleet's store too: a
    /// later runner takes one from there once it proves against the
    /// database's key, and asks the database only for the tiles of the proof.
    @Test func checksumDatabaseLookupsComeFromTheFleetOnceTheyProve() async throws {
        let setup = try setup()
        // A log of more than one record: the proof needs tiles.
        setup.database.append("example.com/other", ["v1.0.0", "v1.1.0", "v1.2.0"], on: setup.harness.upstream)
        let lookup = "sumdb/local.test/lookup/example.com/m@v1.0.0"
        setup.shared.script("example.com/m/@v/v1.0.0.zip", .object(setup.zip))
        setup.shared.script(lookup, .object(try #require(setup.database.lookupAnswer("example.com/m", "v1.0.0"))))
        let zip = await setup.harness.proxy.answer(.zip(module, version))
        #expect(zip.status == 200 && zip.bodyBytes == setup.zip)
        #expect(setup.harness.upstream.requestCount(lookup) == 0)
        #expect(setup.harness.upstream.requestCount("example.com/m/@v/v1.0.0.zip") == 0)
        #expect(setup.harness.upstream.requests.contains { $0.path.hasPrefix("sumdb/local.test/tile/") })
        #expect(setup.shared.rejectedPaths.isEmpty, "\(setup.shared.rejectedPaths)")
    }

    /// A lookup in the bucket that does not prove (its record changed to
    /// vouch for another zip) is refused: the database itself is asked, and
    /// the zip is checked against what it says.
    @Test func aForgedLookupInTheFleetIsRefused() async throws {
        let setup = try setup()
        let lookup = "sumdb/local.test/lookup/example.com/m@v1.0.0"
        let real = String(decoding: try #require(setup.database.lookupAnswer("example.com/m", "v1.0.0")), as: UTF8.self)
        let zipHash = try #require(real.split(separator: "\n")[1].split(separator: " ").last)
        let forged = real.replacingOccurrences(of: String(zipHash), with: "h1:" + String(repeating: "A", count: 43) + "=")
        #expect(forged != real)
        let backdoored = try ZipMaker.module("example.com/m", "v1.0.0", files: [("go.mod", String(decoding: goMod, as: UTF8.self)), ("m.go", "package m\n\nfunc Backdoor() {}\n")])
        setup.shared.script("example.com/m/@v/v1.0.0.zip", .object(backdoored))
        setup.shared.script(lookup, .object(Array(forged.utf8)))
        let zip = await setup.harness.proxy.answer(.zip(module, version))
        #expect(zip.status == 200 && zip.bodyBytes == setup.zip)
        #expect(setup.shared.rejectedPaths[lookup]?.contains("does not vouch for it") == true, "\(setup.shared.rejectedPaths)")
        #expect(setup.shared.rejectedPaths["example.com/m/@v/v1.0.0.zip"] != nil)
        #expect(setup.harness.upstream.requestCount(lookup) == 1)
    }

    /// A lookup the database answered is written behind, like a module file;
    /// another database's, which goedge cannot prove, is not kept in the bucket.
    @Test func lookupsFromTheDatabaseAreWrittenBehind() async throws {
        let setup = try setup()
        let request = try #require(SumdbRequest(path: "local.test/lookup/example.com/m@v1.0.0"))
        #expect(await setup.harness.proxy.answer(.sumdb(request)).status == 200)
        #expect(setup.shared.offered["sumdb/local.test/lookup/example.com/m@v1.0.0"] == setup.database.lookupAnswer("example.com/m", "v1.0.0"))
        setup.harness.upstream.script("sumdb/other.test/lookup/example.com/m@v1.0.0", .init(body: Array("not ours".utf8)))
        let other = try #require(SumdbRequest(path: "other.test/lookup/example.com/m@v1.0.0"))
        _ = await setup.harness.proxy.answer(.sumdb(other))
        #expect(!setup.shared.asked.contains("sumdb/other.test/lookup/example.com/m@v1.0.0"))
        #expect(setup.shared.offered["sumdb/other.test/lookup/example.com/m@v1.0.0"] == nil)
    }
    /// Modules at go 1.17, each requiring the next ones given, scripted on
    /// the upstream and recorded in the checksum database; a proxy reading ahead.
    func prunedGraph(_ requirements: [String: [String]]) throws -> (harness: ProxyHarness, shared: ScriptedSharedStore, goMods: [String: [UInt8]]) {
        let database = ScriptedChecksumDatabase()
        let shared = ScriptedSharedStore()
        let harness = try ProxyHarness(
            readAhead: true, dating: .checksumDatabase(database.setting, notCovered: ModulePrefixPatterns(""), direct: nil), shared: shared)
        var goMods: [String: [UInt8]] = [:]
        for (path, required) in requirements.sorted(by: { $0.key < $1.key }) {
            var text = "module \(path)\n\ngo 1.17\n"
            if !required.isEmpty { text += "\nrequire (\n" + required.map { "\t\($0) v1.0.0\n" }.joined() + ")\n" }
            goMods[path] = Array(text.utf8)
            database.append(
                path, "v1.0.0", zipHash: "h1:" + String(repeating: "A", count: 43) + "=", goModHash: DirHash.goModHash(Array(text.utf8)),
                on: harness.upstream)
            harness.upstream.script("\(path)/@v/v1.0.0.mod", .init(body: Array(text.utf8)))
        }
        return (harness, shared, goMods)
    }

    /// Below a pruned go.mod the go command may or may not ask for a
    /// requirement's go.mod, so read-ahead asks the upstream for none of
    /// them; with a fleet's store it takes what the store has (checked as
    /// any file from it), and the go command, loading the graph two go.mod
    /// files at a time, finds them here instead of waiting a round trip each.
    @Test func belowAPrunedModuleReadAheadTakesWhatTheStoreHasAndNothingElse() async throws {
        let (harness, shared, goMods) = try prunedGraph([
            "example.com/m": ["example.com/a", "example.com/b"], "example.com/a": ["example.com/c"], "example.com/b": [], "example.com/c": [],
        ])
        shared.script("example.com/a/@v/v1.0.0.mod", .object(goMods["example.com/a"]!))
        shared.script("example.com/c/@v/v1.0.0.mod", .object(goMods["example.com/c"]!))
        #expect(await harness.proxy.answer(.mod(try ModulePath("example.com/m"), version)).status == 200)
        await harness.proxy.readAhead.settled()
        for path in ["example.com/a", "example.com/c"] {
            #expect(harness.store.info(try #require(ProxyResource.mod(try ModulePath(path), version).cacheKey)) != nil, "\(path)")
            #expect(harness.upstream.requestCount("\(path)/@v/v1.0.0.mod") == 0, "\(path)")
        }
        #expect(shared.asked.contains("example.com/b/@v/v1.0.0.mod"))
        #expect(harness.upstream.requestCount("example.com/b/@v/v1.0.0.mod") == 0)
        // Nor does a file the fleet lacks cost a checksum database lookup.
        #expect(harness.upstream.requestCount("sumdb/local.test/lookup/example.com/b@v1.0.0") == 0)
        #expect(shared.rejectedPaths.isEmpty, "\(shared.rejectedPaths)")
        let a = await harness.proxy.answer(.mod(try ModulePath("example.com/a"), version))
        #expect(a.cacheStatus == .hit && a.bodyBytes == goMods["example.com/a"])
        // What the store lacked is fetched when a client asks: never a 404 remembered from read-ahead.
        let b = await harness.proxy.answer(.mod(try ModulePath("example.com/b"), version))
        #expect(b.status == 200 && b.cacheStatus == .miss && b.bodyBytes == goMods["example.com/b"])
        #expect(harness.upstream.requestCount("example.com/b/@v/v1.0.0.mod") == 1)
    }

    /// A go.mod in the store that the checksum database does not vouch for
    /// is refused by read-ahead as by a client, and read-ahead goes no further below it.
    @Test func readAheadFromTheStoreRefusesWhatDoesNotVerify() async throws {
        let (harness, shared, goMods) = try prunedGraph(["example.com/m": ["example.com/a"], "example.com/a": ["example.com/c"], "example.com/c": []])
        shared.script("example.com/a/@v/v1.0.0.mod", .object(Array("module example.com/a\n\ngo 1.17\n\nrequire example.com/evil v1.0.0\n".utf8)))
        shared.script("example.com/c/@v/v1.0.0.mod", .object(goMods["example.com/c"]!))
        #expect(await harness.proxy.answer(.mod(try ModulePath("example.com/m"), version)).status == 200)
        await harness.proxy.readAhead.settled()
        #expect(shared.rejectedPaths["example.com/a/@v/v1.0.0.mod"]?.contains("is not the checksum database's") == true, "\(shared.rejectedPaths)")
        #expect(harness.store.info(try #require(ProxyResource.mod(try ModulePath("example.com/a"), version).cacheKey)) == nil)
        #expect(!shared.asked.contains("example.com/evil/@v/v1.0.0.mod"))
        #expect(!shared.asked.contains("example.com/c/@v/v1.0.0.mod"))
        #expect(harness.upstream.requestCount("example.com/a/@v/v1.0.0.mod") == 0)
    }

    /// A client asking for a file that read-ahead is asking the store for
    /// joins that fetch: when the store has not got it, the fetch goes on to
    /// the upstream for the client, and the store is asked once.
    @Test func aClientJoiningReadAheadFromTheStoreGetsTheFileFromTheUpstream() async throws {
        let (harness, shared, goMods) = try prunedGraph(["example.com/m": ["example.com/b"], "example.com/b": []])
        let path = "example.com/b/@v/v1.0.0.mod"
        let gate = shared.hold(path)
        #expect(await harness.proxy.answer(.mod(try ModulePath("example.com/m"), version)).status == 200)
        #expect(eventually { shared.asked.contains(path) })
        let promotions = harness.upstream.promotions
        let b = try ModulePath("example.com/b")
        let client = Task { await harness.proxy.answer(.mod(b, version)) }
        #expect(eventually { harness.upstream.promotions > promotions })
        _ = gate.settle(())
        let answer = await client.value
        #expect(answer.status == 200 && answer.bodyBytes == goMods["example.com/b"])
        #expect(shared.asked.filter { $0 == path }.count == 1)
        #expect(harness.upstream.requestCount(path) == 1)
    }
}
