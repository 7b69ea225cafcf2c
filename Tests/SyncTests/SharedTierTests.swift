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
        return Setup(harness: harness, shared: shared, zip: zip)
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
        // What came from the fleet is not written back to it.
        #expect(setup.shared.offered.isEmpty)
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
        #expect(setup.shared.offered == ["example.com/m/@v/v1.0.0.zip": setup.zip, "example.com/m/@v/v1.0.0.mod": goMod])
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
}
