import ChecksumDatabase
import GoModules
import Foundation
import LRUCache
import ModulePolicy
import ProxyTestSupport
import Testing
import TestSupport

@testable import ModuleProxy

/// Which modules and versions the policy lets through, decided without I/O.
@Suite struct ModulePolicyTests {
    private func rule(_ module: String, _ versions: String? = nil, _ reason: String? = nil) throws -> ModulePolicy.Rule {
        ModulePolicy.Rule(module: try #require(ModulePattern(module)), versions: try versions.map { try VersionRange($0) }, reason: reason)
    }

    @Test func patternsMatchAPathOrEverythingBelowIt() throws {
        let below = try #require(ModulePattern("example.com/org/..."))
        #expect(below.matches("example.com/org"))
        #expect(below.matches("example.com/org/m/v2"))
        #expect(!below.matches("example.com/organic"))
        let exact = try #require(ModulePattern("example.com/m"))
        #expect(exact.matches("example.com/m") && !exact.matches("example.com/m/sub"))
        #expect(try #require(ModulePattern("...")).matches("golang.org/x/text"))
        #expect(ModulePattern("") == nil && ModulePattern("example.com/.../m") == nil && ModulePattern("a b") == nil)
    }

    /// github.com/Evil/pkg is the repository github.com/evil/pkg: a rule
    /// for one matches every spelling on hosts that ignore case, and only there.
    @Test func rulesMatchEverySpellingOnHostsThatIgnoreCase() throws {
        let policy = ModulePolicy(
            deny: [try rule("github.com/evil/pkg"), try rule("gitlab.com/Bad/...", "< v2.0.0"), try rule("example.com/evil/pkg")],
            allow: [try rule("github.com/..."), try rule("gitlab.com/..."), try rule("example.com/...")])
        for spelling in ["github.com/evil/pkg", "github.com/Evil/pkg", "github.com/EVIL/PKG", "GitHub.com/evil/pkg"] {
            #expect(policy.decide(module: spelling, version: "v1.0.0").denial != nil, "\(spelling)")
            #expect(policy.decide(module: spelling).denial != nil, "\(spelling)")
        }
        #expect(policy.decide(module: "gitlab.com/bad/sub", version: "v1.0.0").denial != nil)
        #expect(policy.decide(module: "bitbucket.org/x/y", version: "v1.0.0").denial != nil)  // not on the allow list
        // Elsewhere a path's case is its own: example.com/Evil/pkg is another module.
        #expect(policy.decide(module: "example.com/Evil/pkg", version: "v1.0.0") == .allowed)
        #expect(policy.decide(module: "example.com/evil/pkg", version: "v1.0.0").denial != nil)
        #expect(ModulePattern("github.com/Acme/...")!.matches("github.com/acme/tool"))
    }

    @Test func rangesCompareAsSemanticVersions() throws {
        let range = try VersionRange(">= v2.0.0, < v2.3.1")
        #expect(range.contains(try #require(SemanticVersion("v2.0.0"))))
        #expect(range.contains(try #require(SemanticVersion("v2.3.1-rc.1"))))
        #expect(!range.contains(try #require(SemanticVersion("v2.3.1"))))
        #expect(!range.contains(try #require(SemanticVersion("v1.9.9"))))
        // A pseudo-version sorts below the release it precedes.
        #expect(try VersionRange("< v1.4.2").contains(try #require(SemanticVersion("v1.4.2-0.20230301120000-abcdefabcdef"))))
        #expect(try VersionRange("v1.2.3").contains(try #require(SemanticVersion("v1.2.3"))))
        #expect(throws: VersionRange.ParseError.self) { try VersionRange("< 1.4") }
        #expect(throws: VersionRange.ParseError.self) { try VersionRange(">= v1.0.0,") }
    }

    @Test func aDenyInsideAnAllowWins() throws {
        let policy = ModulePolicy(
            deny: [try rule("example.com/org/bad", "< v1.4.2", "GO-2099-0001")], allow: [try rule("example.com/org/...")])
        #expect(policy.decide(module: "example.com/org/good", version: "v1.0.0") == .allowed)
        #expect(policy.decide(module: "example.com/org/bad", version: "v1.4.2") == .allowed)
        let denied = policy.decide(module: "example.com/org/bad", version: "v1.4.1").denial
        #expect(denied?.description == "goedge policy: example.com/org/bad@v1.4.1 denied: GO-2099-0001")
        #expect(policy.decide(module: "example.com/other", version: "v1.0.0").denial?.reason == "the module is not on the allow list")
        // As a whole, a module with some allowed versions is allowed (its list is filtered).
        #expect(policy.decide(module: "example.com/org/bad") == .allowed)
        #expect(policy.decide(module: "example.com/other") != .allowed)
    }

    // MARK: Enforced by the proxy

    private let module = try! ModulePath("example.com/m")

    private func harness(_ policy: ModulePolicy) throws -> ProxyHarness {
        let harness = try ProxyHarness()
        harness.proxy.policy.replace(with: policy)
        return harness
    }

    private func answer(_ harness: ProxyHarness, _ resource: ProxyResource) async -> ProxyAnswer {
        await harness.proxy.answer(ProxyRequest(resource), priority: .client)
    }

    @Test func deniedVersionsLeaveTheListAndTheirFilesAreRefusedUnasked() async throws {
        let harness = try harness(ModulePolicy(deny: [try rule("example.com/m", ">= v1.3.0", "GO-2099-0001 (a test)")]))
        harness.upstream.script("example.com/m/@v/list", .init(body: Array("v1.0.0\nv1.2.0\nv1.3.0\nv1.3.1\n".utf8)))
        let list = await answer(harness, .list(module))
        #expect(list.status == 200 && list.bodyBytes == Array("v1.0.0\nv1.2.0\n".utf8))
        // Cached: the second answer is filtered too.
        #expect(await harness.proxy.cachedClientAnswer(for: ProxyRequest(.list(module)))?.bodyBytes == Array("v1.0.0\nv1.2.0\n".utf8))

        let zip = await answer(harness, .zip(module, try ModuleVersion("v1.3.0")))
        #expect(zip.status == 403 && zip.cacheStatus == .denied)
        #expect(zip.bodyBytes == Array("goedge policy: example.com/m@v1.3.0 denied: GO-2099-0001 (a test)\n".utf8))
        #expect(harness.upstream.requestCount("example.com/m/@v/v1.3.0.zip") == 0)
    }

    @Test func aResolvedVersionThatIsDeniedIsRefused() async throws {
        let harness = try harness(ModulePolicy(deny: [try rule("example.com/m", "v1.3.0", "broken")]))
        harness.upstream.script("example.com/m/@latest", .init(body: Array(#"{"Version":"v1.3.0","Time":"2023-01-01T00:00:00Z"}"#.utf8)))
        harness.upstream.script("example.com/m/@v/main.info", .init(body: Array(#"{"Version":"v1.3.0"}"#.utf8)))
        #expect(await answer(harness, .latest(module)).status == 403)
        #expect(await answer(harness, .info(module, try ModuleVersion("main"))).status == 403)
    }

    @Test func aFileCachedBeforeItsVersionWasDeniedStaysButIsNotServed() async throws {
        let harness = try harness(.open)
        let version = try ModuleVersion("v1.0.0")
        harness.upstream.script("example.com/m/@v/v1.0.0.mod", .init(body: Array("module example.com/m\n".utf8)))
        #expect(await answer(harness, .mod(module, version)).status == 200)
        harness.proxy.policy.replace(with: ModulePolicy(deny: [try rule("example.com/m")]))
        #expect(await answer(harness, .mod(module, version)).status == 403)
        #expect(harness.proxy.cachedAnswer(for: .mod(module, version))?.status == 200, "the cached file was deleted")
        harness.proxy.policy.replace(with: .open)
        #expect(await answer(harness, .mod(module, version)).status == 200)
        #expect(harness.upstream.requestCount("example.com/m/@v/v1.0.0.mod") == 1)
    }
}

/// The Go vulnerability database's OSV layout, read from a small copy the
/// test writes, and OSV's range rules.
@Suite struct VulnerabilityDatabaseTests {
    static func write(_ folder: TemporaryDirectory) throws {
        try folder.write(
            "vulndb/index/modules.json",
            #"[{"path":"example.com/dep","vulns":[{"id":"GO-2099-0002","modified":"2099-01-01T00:00:00Z","fixed":"1.0.2"}]},"#
                + #"{"path":"example.com/old","vulns":[{"id":"GO-2099-0003","modified":"2099-01-01T00:00:00Z"}]}]"#)
        try folder.write(
            "vulndb/ID/GO-2099-0002.json",
            #"{"id":"GO-2099-0002","summary":"Name returns the wrong greeting","affected":[{"package":{"name":"example.com/dep","ecosystem":"Go"},"#
                + #""ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.1"},{"fixed":"1.0.2"}]}]}]}"#)
        try folder.write(
            "vulndb/ID/GO-2099-0003.json",
            #"{"id":"GO-2099-0003","affected":[{"package":{"name":"example.com/old","ecosystem":"Go"},"#
                + #""ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"last_affected":"1.2.0"}]},"#
                + #"{"type":"SEMVER","events":[{"introduced":"2.0.0"}]}]}]}"#)
    }

    private func version(_ text: String) throws -> SemanticVersion { try #require(SemanticVersion(text)) }

    @Test func affectedVersionsFollowOSVRanges() throws {
        let folder = TemporaryDirectory()
        try Self.write(folder)
        let database = try VulnerabilityDatabase.load(folder: folder.path + "/vulndb")
        #expect(database.findings(module: "example.com/dep", version: try version("v1.0.0")).isEmpty)
        #expect(database.findings(module: "example.com/dep", version: try version("v1.0.1")).map(\.description)
            == ["GO-2099-0002 (Name returns the wrong greeting; fixed in v1.0.2)"])
        #expect(database.findings(module: "example.com/dep", version: try version("v1.0.2")).isEmpty)
        // Introduced at 0, last affected 1.2.0; and everything from 2.0.0 on, unfixed.
        #expect(!database.findings(module: "example.com/old", version: try version("v0.0.0-20200101000000-abcdefabcdef")).isEmpty)
        #expect(!database.findings(module: "example.com/old", version: try version("v1.2.0")).isEmpty)
        #expect(database.findings(module: "example.com/old", version: try version("v1.2.1")).isEmpty)
        #expect(database.findings(module: "example.com/old", version: try version("v2.5.0")).map(\.description) == ["GO-2099-0003"])
        #expect(database.findings(module: "example.com/other", version: try version("v1.0.0")).isEmpty)
    }

    @Test func entriesMatchEverySpellingOnHostsThatIgnoreCase() throws {
        let folder = TemporaryDirectory()
        try folder.write("vulndb/index/modules.json", #"[{"path":"github.com/evil/pkg","vulns":[{"id":"GO-2099-0009"}]}]"#)
        try folder.write(
            "vulndb/ID/GO-2099-0009.json",
            #"{"id":"GO-2099-0009","affected":[{"package":{"name":"github.com/evil/pkg","ecosystem":"Go"},"#
                + #""ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.5.0"}]}]}]}"#)
        let database = try VulnerabilityDatabase.load(folder: folder.path + "/vulndb")
        for spelling in ["github.com/evil/pkg", "github.com/Evil/pkg", "github.com/EVIL/PKG"] {
            #expect(!database.findings(module: spelling, version: try version("v1.0.0")).isEmpty, "\(spelling)")
        }
    }

    /// An entry whose `fixed` (or `introduced`) does not parse would protect
    /// nothing: it is refused, naming the file and the entry.
    @Test func anEntryWithAVersionThatDoesNotParseIsRefused() throws {
        for (field, value) in [("fixed", "1.0.x"), ("introduced", "banana"), ("last_affected", "")] {
            let folder = TemporaryDirectory()
            try folder.write("vulndb/index/modules.json", #"[{"path":"example.com/dep","vulns":[{"id":"GO-2099-0002"}]}]"#)
            try folder.write(
                "vulndb/ID/GO-2099-0002.json",
                #"{"id":"GO-2099-0002","affected":[{"package":{"name":"example.com/dep","ecosystem":"Go"},"#
                    + #""ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0"},{""# + field + #"":""# + value + #""}]}]}]}"#)
            do {
                _ = try VulnerabilityDatabase.load(folder: folder.path + "/vulndb")
                Issue.record("\(field) \(value) was accepted")
            } catch {
                #expect(error.description.contains("GO-2099-0002.json: entry GO-2099-0002: \(field) \"\(value)\""), "\(error)")
            }
        }
    }

    @Test func aDamagedCopyIsRefusedWithWhatIsWrong() throws {
        let folder = TemporaryDirectory()
        try Self.write(folder)
        try folder.write("vulndb/index/modules.json", #"[{"path":"example.com/dep","vulns":[{"id":"../../etc/passwd"}]}]"#)
        #expect(throws: VulnerabilityDatabase.LoadError.self) { try VulnerabilityDatabase.load(folder: folder.path + "/vulndb") }
        #expect(throws: VulnerabilityDatabase.LoadError.self) { try VulnerabilityDatabase.load(folder: folder.path + "/missing") }
    }
}

/// The release-age cooldown, on a clock the test moves, dating versions by
/// a checksum database made here (or by first sight), never by what their
/// publisher wrote.
@Suite struct CooldownTests {
    private let module = try! ModulePath("example.com/m")
    private let week = ModulePolicy(minimumReleaseAge: .seconds(7 * 86400), minimumReleaseAgeText: "7d")
    static let day = Duration.seconds(86400)

    private func info(_ version: String, publishedAgo age: Duration, clock: ManualClock) -> [UInt8] {
        let seconds = Double(clock.now()) / 1e9 - Double(age.components.seconds)
        let formatter = ISO8601DateFormatter()
        return Array(#"{"Version":"\#(version)","Time":"\#(formatter.string(from: Date(timeIntervalSince1970: seconds)))"}"#.utf8)
    }

    private func harness(_ database: ScriptedChecksumDatabase, notCovered: String = "") throws -> ProxyHarness {
        try ProxyHarness(dating: .checksumDatabase(database.setting, notCovered: ModulePrefixPatterns(notCovered), direct: nil))
    }

    private func text(_ answer: ProxyAnswer) -> String { String(decoding: answer.bodyBytes ?? [], as: UTF8.self) }

    /// The attack the cooldown exists for: a release whose commit and .info
    /// say 2019, published today. The checksum database's log, which only
    /// grows, shows it is new; it is refused until it has been in the log
    /// for the whole cooldown.
    @Test func aBackdatedReleaseIsDatedByTheLogNotByItsPublisher() async throws {
        let database = ScriptedChecksumDatabase()
        let harness = try harness(database)
        harness.proxy.policy.replace(with: week)
        database.append("example.com/m", ["v1.0.0"], on: harness.upstream)
        harness.upstream.script("example.com/m/@v/v1.0.0.info", .init(body: info("v1.0.0", publishedAgo: .seconds(400 * 86400), clock: harness.clock)))
        harness.upstream.script("example.com/m/@v/v1.0.0.mod", .init(body: Array("module example.com/m\n".utf8)))
        // goedge's first view of the log: v1.0.0 was in it before, and its publisher's time is old.
        await harness.proxy.recordChecksumDatabaseHead()
        #expect(await harness.proxy.answer(.mod(module, try ModuleVersion("v1.0.0"))).status == 200)

        harness.clock.advance(by: Self.day * 8)
        database.append("example.com/m", ["v1.1.0"], on: harness.upstream)
        let backdated = info("v1.1.0", publishedAgo: .seconds(7 * 365 * 86400), clock: harness.clock)
        harness.upstream.script("example.com/m/@v/v1.1.0.info", .init(body: backdated))
        harness.upstream.script("example.com/m/@v/v1.1.0.mod", .init(body: Array("module example.com/m\n".utf8)))
        harness.upstream.script("example.com/m/@v/list", .init(body: Array("v1.0.0\nv1.1.0\n".utf8)))
        let refused = await harness.proxy.answer(.mod(module, try ModuleVersion("v1.1.0")))
        #expect(refused.status == 403)
        #expect(text(refused).contains("example.com/m@v1.1.0 denied: released less than 7d ago (min-release-age), dated by the checksum database's log"), "\(text(refused))")
        #expect(harness.upstream.requestCount("example.com/m/@v/v1.1.0.mod") == 0)
        let list = await harness.proxy.answer(.list(module))
        #expect(list.bodyBytes == Array("v1.0.0\n".utf8))

        // In the log for longer than the cooldown now: offered.
        harness.clock.advance(by: Self.day * 11)
        database.append("example.com/other", ["v1.0.0"], on: harness.upstream)
        await harness.proxy.recordChecksumDatabaseHead()
        harness.clock.advance(by: Self.day * 8)
        #expect(await harness.proxy.answer(.mod(module, try ModuleVersion("v1.1.0"))).status == 200)
    }

    /// An ephemeral runner has no history of its own: it learns the sizes
    /// the fleet saw from the shared store, dated by the store, and dates
    /// versions by them.
    @Test func aRunnerDatesVersionsByTheFleetsHistory() async throws {
        let database = ScriptedChecksumDatabase()
        let shared = ScriptedSharedStore()
        let earlier = try ProxyHarness(
            dating: .checksumDatabase(database.setting, notCovered: ModulePrefixPatterns(""), direct: nil), shared: shared)
        shared.now.withLock { [clock = earlier.clock] in $0 = { clock.now() } }
        database.append("example.com/m", ["v1.0.0"], on: earlier.upstream)
        await earlier.proxy.recordChecksumDatabaseHead()
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while shared.smallObjects.isEmpty && clock.now < deadline { await Task.yield() }
        #expect(shared.smallObjects.count == 1)

        let runner = try ProxyHarness(
            dating: .checksumDatabase(database.setting, notCovered: ModulePrefixPatterns(""), direct: nil), shared: shared)
        runner.proxy.policy.replace(with: week)
        runner.clock.advance(by: Self.day * 8)
        database.serve(on: runner.upstream)
        // Its publisher says a day old; the fleet saw it in the log eight days ago.
        runner.upstream.script("example.com/m/@v/v1.0.0.info", .init(body: info("v1.0.0", publishedAgo: Self.day, clock: runner.clock)))
        await runner.proxy.readFleetHistory()
        await runner.proxy.recordChecksumDatabaseHead()
        let old = await runner.proxy.policyVerdict(module: "example.com/m", version: "v1.0.0")
        #expect(old.allowed, "\(old)")
        #expect(old.datedBy?.contains("the checksum database's log (record 0 was in the log of 1 records seen") == true, "\(old)")
    }

    /// A fresh install has seen no history yet: what the log held before its
    /// first view is dated by its publisher until that view is older than
    /// the cooldown (old versions keep working); what came after is dated
    /// by the log.
    @Test func aFreshInstallServesOldVersionsAndRefusesNewOnes() async throws {
        let database = ScriptedChecksumDatabase()
        let harness = try harness(database)
        harness.proxy.policy.replace(with: week)
        database.append("example.com/m", ["v1.0.0", "v1.1.0"], on: harness.upstream)
        harness.upstream.script("example.com/m/@v/v1.0.0.info", .init(body: info("v1.0.0", publishedAgo: Self.day * 30, clock: harness.clock)))
        harness.upstream.script("example.com/m/@v/v1.1.0.info", .init(body: info("v1.1.0", publishedAgo: Self.day, clock: harness.clock)))
        await harness.proxy.recordChecksumDatabaseHead()
        let old = await harness.proxy.answer(.info(module, try ModuleVersion("v1.0.0")))
        #expect(old.status == 200)
        let young = await harness.proxy.answer(.info(module, try ModuleVersion("v1.1.0")))
        #expect(young.status == 403)
        #expect(text(young).contains("dated by its publisher's time (its checksum record precedes goedge's first view of the log"), "\(text(young))")
        // Not in the database at all: cannot be dated, too new.
        harness.upstream.script("example.com/m/@v/v1.2.0.info", .init(body: info("v1.2.0", publishedAgo: Self.day * 900, clock: harness.clock)))
        let unknown = await harness.proxy.answer(.info(module, try ModuleVersion("v1.2.0")))
        #expect(unknown.status == 403)
        #expect(text(unknown).contains("has no record of it"), "\(text(unknown))")
    }

    /// However long a version list, only its highest versions are dated
    /// (the ones `@latest` and `-u` would take); a lower version is still
    /// refused when its files are asked for.
    @Test func aLongListCostsABoundedNumberOfLookups() async throws {
        let database = ScriptedChecksumDatabase()
        let harness = try harness(database)
        harness.proxy.policy.replace(with: ModulePolicy(minimumReleaseAge: Self.day, minimumReleaseAgeText: "1d"))
        let versions = (0..<300).map { "v1.0.\($0)" }
        database.append("example.com/m", Array(versions.dropLast()), on: harness.upstream)
        await harness.proxy.recordChecksumDatabaseHead()
        harness.clock.advance(by: Self.day * 2)
        database.append("example.com/m", ["v1.0.299"], on: harness.upstream)
        harness.upstream.script("example.com/m/@v/list", .init(body: Array(versions.shuffled().joined(separator: "\n").utf8)))
        let list = await harness.proxy.answer(.list(module))
        let listed = Set(text(list).split(separator: "\n").map(String.init))
        #expect(listed == Set(versions.dropLast()))
        #expect(harness.upstream.requests.filter { $0.path.contains("/lookup/") }.count == ModuleProxy.releaseTimesCheckedPerList)
        // A low version left in the list is dated when fetched: in the log for two days, so served.
        harness.upstream.script("example.com/m/@v/v1.0.3.mod", .init(body: Array("module example.com/m\n".utf8)))
        #expect(await harness.proxy.answer(.mod(module, try ModuleVersion("v1.0.3"))).status == 200)
    }

    /// Modules the checksum database does not cover are dated by the first
    /// time goedge saw them; exempt modules are served whatever their age.
    @Test func privateModulesAreDatedByFirstSightAndExemptOnesNotAtAll() async throws {
        let database = ScriptedChecksumDatabase()
        let harness = try harness(database, notCovered: "example.com/m")
        harness.proxy.policy.replace(with: ModulePolicy(minimumReleaseAge: Self.day, minimumReleaseAgeText: "1d"))
        harness.upstream.script("example.com/m/@v/v2.0.0.mod", .init(body: Array("module example.com/m\n".utf8)))
        let first = await harness.proxy.answer(.mod(module, try ModuleVersion("v2.0.0")))
        #expect(first.status == 403)
        #expect(text(first).contains("dated by the first time goedge saw it"), "\(text(first))")
        harness.clock.advance(by: Self.day * 2)
        #expect(await harness.proxy.answer(.mod(module, try ModuleVersion("v2.0.0"))).status == 200)
        harness.proxy.policy.replace(
            with: ModulePolicy(minimumReleaseAge: Self.day, minimumReleaseAgeText: "1d", cooldownExempt: [ModulePattern("example.com/...")!]))
        harness.upstream.script("example.com/m/@v/v3.0.0.mod", .init(body: Array("module example.com/m\n".utf8)))
        #expect(await harness.proxy.answer(.mod(module, try ModuleVersion("v3.0.0"))).status == 200)
    }

    /// A release time outside what `Int64` nanoseconds hold (before 1678,
    /// after 2262) is unknown, so too new: never a trap, whoever sends it
    /// (a client's path, an upstream's `.info` or `list`, a go.mod read
    /// ahead). Publisher times are read for what the log held before
    /// goedge's first view of it, as here.
    @Test func aTimeBeyondWhatNanosecondsHoldIsUnknownNeverATrap() async throws {
        let database = ScriptedChecksumDatabase()
        let farPseudo = "v0.0.0-99991231235959-abcdefabcdef"
        let harness = try ProxyHarness(
            readAhead: true, dating: .checksumDatabase(database.setting, notCovered: ModulePrefixPatterns(""), direct: nil))
        database.append("example.com/m", ["v1.0.0", "v1.0.1", farPseudo], on: harness.upstream)
        database.append("example.com/far", [farPseudo], on: harness.upstream)
        await harness.proxy.recordChecksumDatabaseHead()
        harness.proxy.policy.replace(with: week)
        let asked = await harness.proxy.answer(ProxyRequest(.mod(module, try ModuleVersion(farPseudo))), priority: .client)
        #expect(asked.status == 403)

        for (version, time) in [("v1.0.0", "0001-01-01T00:00:00Z"), ("v1.0.1", "9999-12-31T23:59:59Z")] {
            harness.upstream.script("example.com/m/@v/\(version).info", .init(body: Array(#"{"Version":"\#(version)","Time":"\#(time)"}"#.utf8)))
            let info = await harness.proxy.answer(ProxyRequest(.info(module, try ModuleVersion(version))), priority: .client)
            #expect(info.status == 403)
        }
        harness.upstream.script("example.com/m/@v/list", .init(body: Array("v1.0.0\n\(farPseudo)\n".utf8)))
        let list = await harness.proxy.answer(ProxyRequest(.list(module)), priority: .client)
        #expect(list.status == 200)
        #expect(list.bodyBytes == [])

        // Read ahead: an allowed version's go.mod requires one (cooldown-exempt, so it is served).
        harness.proxy.policy.replace(
            with: ModulePolicy(
                minimumReleaseAge: .seconds(7 * 86400), minimumReleaseAgeText: "7d", cooldownExempt: [ModulePattern("example.com/m")!]))
        harness.upstream.script(
            "example.com/m/@v/v1.0.2.mod",
            .init(body: Array("module example.com/m\n\ngo 1.16\n\nrequire example.com/far \(farPseudo)\n".utf8)))
        harness.upstream.script("example.com/far/@v/\(farPseudo).mod", .init(body: Array("module example.com/far\n".utf8)))
        let mod = await harness.proxy.answer(ProxyRequest(.mod(module, try ModuleVersion("v1.0.2"))), priority: .client)
        #expect(mod.status == 200)
        await harness.proxy.readAhead.settled()
        #expect(harness.upstream.requestCount("example.com/far/@v/\(farPseudo).mod") == 0)
    }

    @Test func releaseTimesOutsideNanosecondsAreNil() {
        #expect(ReleaseTime.ofPseudoVersion("v0.0.0-99991231235959-abcdefabcdef") == nil)
        #expect(ReleaseTime.ofPseudoVersion("v0.0.0-22620411234748-abcdefabcdef") == nil)
        #expect(ReleaseTime.ofPseudoVersion("v0.0.0-22620411234716-abcdefabcdef") != nil)
        #expect(ReleaseTime.ofInfo(Array(#"{"Time":"0001-01-01T00:00:00Z"}"#.utf8)) == nil)
        #expect(ReleaseTime.ofInfo(Array(#"{"Time":"9999-12-31T23:59:59.999Z"}"#.utf8)) == nil)
        #expect(ReleaseTime.ofInfo(Array(#"{"Time":"1600-01-01T00:00:00Z"}"#.utf8)) == nil)
        let march1: Int64 = 1_677_672_000 * 1_000_000_000
        #expect(ReleaseTime.ofInfo(Array(#"{"Time":"2023-03-01T12:00:00Z"}"#.utf8)) == march1)
    }

    /// RFC 3339 as upstreams and buckets write it, parsed without ICU
    /// (whose parser trapped on a fraction of 80 digits: the fuzz corpus
    /// keeps that input).
    @Test func internetTimesParseStrictly() {
        let march1: Int64 = 1_677_672_000 * 1_000_000_000
        #expect(InternetTime.nanoseconds("2023-03-01T12:00:00Z") == march1)
        #expect(InternetTime.nanoseconds("2023-03-01t12:00:00z") == march1)
        #expect(InternetTime.nanoseconds("2023-03-01T12:00:00.5Z") == march1 + 500_000_000)
        #expect(InternetTime.nanoseconds("2023-03-01T12:00:00.123456789123Z") == march1 + 123_456_789)
        #expect(InternetTime.nanoseconds("2023-03-01T13:30:00+01:30") == march1)
        #expect(InternetTime.nanoseconds("2023-03-01T10:00:00-02:00") == march1)
        #expect(InternetTime.nanoseconds("1970-01-01T00:00:00Z") == 0)
        #expect(InternetTime.nanoseconds("2024-02-29T00:00:00Z") != nil)
        #expect(InternetTime.nanoseconds("1969-12-31T23:59:59Z") == -1_000_000_000)
        for text in [
            "2023-02-29T00:00:00Z", "2023-13-01T00:00:00Z", "2023-03-01T24:00:00Z", "2023-03-01T12:00:00",
            "2023-03-01 12:00:00Z", "2023-03-01T12:00:00.Z", "998-12-31T3:59:5.9Z", "2023-03-01T12:00:00+0100",
            "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2023-03-01T12:00:00." + String(repeating: "9", count: 80) + "Z",
        ] {
            #expect(InternetTime.nanoseconds(text) == nil, "\(text)")
        }
    }

    @Test func pseudoVersionsCarryTheirTime() {
        let march1: Int64? = 1_677_672_000 * 1_000_000_000
        #expect(ReleaseTime.ofPseudoVersion("v0.0.0-20230301120000-abcdefabcdef") == march1)
        #expect(ReleaseTime.ofPseudoVersion("v1.2.4-0.20230301120000-abcdefabcdef+incompatible") == march1)
        #expect(ReleaseTime.ofPseudoVersion("v1.2.3-pre.0.20230301120000-abcdefabcdef") == march1)
        #expect(ReleaseTime.ofPseudoVersion("v1.2.3") == nil)
        #expect(ReleaseTime.ofPseudoVersion("v1.2.3-rc.1") == nil)
    }
}
