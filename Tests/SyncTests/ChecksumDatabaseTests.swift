import Crypto
import Foundation
import GoModules
import Logging
import LRUCache
import ProxyTestSupport
import Testing
import TestSupport

@testable import ChecksumDatabase
@testable import ModuleProxy
@testable import Upstream

/// The checksum database client believes only what verifies: against the Go
/// fixture's real database (golang.org/x/mod/sumdb, so Go's own tree, tiles
/// and signatures), through the proxy as the agent reads it; and against
/// notes and trees made here, tampered with on purpose.
@Suite struct ChecksumDatabaseTests {
    /// A proxy over the real libcurl in front of `upstream`.
    static func proxy(_ upstream: GoProxyFixture) throws -> (ModuleProxy, TemporaryDirectory) {
        let folder = TemporaryDirectory()
        let store = try DiskCache.open(configuration: .init(directory: folder.path, maxSize: 64 << 20))
        let chain = UpstreamChain(
            list: try UpstreamList(parsing: upstream.url), engine: CurlEngine(configuration: UpstreamClientConfiguration()))
        let proxy = ModuleProxy(
            store: store, upstream: chain, freshness: FreshnessPolicy(), readAhead: ReadAhead(enabled: false),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let background = proxy.background
        Task { await background.run() }
        return (proxy, folder)
    }

    /// Every version of a catalog large enough for two tiles at level 0 and
    /// one at level 1: each record is proved in the tree and gives the
    /// hashes the fixture's go.sum lines give.
    @Test func everyRecordOfARealDatabaseVerifies() async throws {
        let upstream = try GoProxyFixture(catalog: "corpus:120")
        let (proxy, folder) = try Self.proxy(upstream)
        defer { withExtendedLifetime(folder) {} }
        let key = try VerifierKey(parsing: upstream.sumdbKey)
        let client = ChecksumDatabaseClient(key: key, fetch: ProxyChecksumDatabase(proxy: proxy, name: key.name))
        let latest = try await client.latest()
        #expect(latest.size > 300)
        let lines = String(decoding: try RawHTTP.get(port: upstream.port, "/_fixture/gosum").body, as: UTF8.self).split(separator: "\n")
        var checked = 0
        for line in lines where !line.contains("/go.mod ") {
            let fields = line.split(separator: " ")
            let record = try await client.lookup(try ModulePath(String(fields[0])), try ModuleVersion(String(fields[1])))
            #expect(record.zipHash == String(fields[2]))
            #expect(record.number >= 0 && record.number < record.tree.size)
            checked += 1
        }
        #expect(Int64(checked) == latest.size)
        // Not in the database: said so, not as a failure to verify.
        await #expect(throws: ChecksumDatabaseClient.Failure.self) {
            try await client.lookup(try ModulePath("example.com/corpus/m999"), try ModuleVersion("v1.0.0"))
        }
    }

    @Test func keysAreCheckedAsTheGoCommandChecksThem() throws {
        let golang = try #require(try ChecksumDatabaseSetting.parse("sum.golang.org"))
        #expect(golang.key.name == "sum.golang.org" && golang.url == nil)
        let china = try #require(try ChecksumDatabaseSetting.parse("sum.golang.google.cn"))
        #expect(china.key.name == "sum.golang.org" && china.url == "https://sum.golang.google.cn")
        #expect(try ChecksumDatabaseSetting.parse("off") == nil)
        let withURL = try #require(
            try ChecksumDatabaseSetting.parse("sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8 http://127.0.0.1:9/"))
        #expect(withURL.url == "http://127.0.0.1:9")
        // A hash that does not belong to the name and key, a key that is not Ed25519, garbage.
        for bad in [
            "sum.golang.org+033de0af+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8", "sum.golang.org+033de0ae+AAAA",
            "nonsense", "a+b+c", "sum.golang.org ftp://x", "",
        ] {
            #expect(throws: VerifierKey.Failure.self, "\(bad)") { try ChecksumDatabaseSetting.parse(bad) }
        }
    }

    /// GONOSUMDB's patterns: globs over path prefixes, element by element.
    @Test func prefixPatternsMatchAsTheGoCommandMatchesThem() {
        let patterns = ModulePrefixPatterns("*.corp.example, github.com/acme/*,example.com/private")
        #expect(patterns.matches("git.corp.example/team/m"))
        #expect(patterns.matches("github.com/acme/tool"))
        #expect(patterns.matches("github.com/acme/tool/v2"))
        #expect(patterns.matches("example.com/private/x"))
        #expect(!patterns.matches("example.com/privateer"))
        #expect(!patterns.matches("github.com/other/tool"))
        #expect(!patterns.matches("corp.example/m"))
        #expect(ModulePrefixPatterns("example.com/[a-c]?").matches("example.com/bx/y"))
        #expect(!ModulePrefixPatterns("example.com/[^a-c]?").matches("example.com/bx/y"))
        #expect(!ModulePrefixPatterns("").matches("example.com/m"))
    }

    // MARK: Made here, tampered with

    /// A database of `records` signed with a key made here: the lookup and
    /// tile answers it gives, and its key.
    struct LocalDatabase {
        let signer = Curve25519.Signing.PrivateKey()
        let name = "local.test"
        let records: [[UInt8]]

        var key: VerifierKey {
            let data = [1] + Array(signer.publicKey.rawRepresentation)
            let hash = VerifierKey.hash(name: name, keyData: data)
            return try! VerifierKey(parsing: "\(name)+\(String(format: "%08x", hash))+\(Data(data).base64EncodedString())")
        }

        /// RFC 6962's tree hash, computed plainly (not by the code under test).
        static func treeHash(_ leaves: ArraySlice<[UInt8]>) -> [UInt8] {
            if leaves.count == 1 { return leaves.first! }
            var split = 1
            while split << 1 < leaves.count { split <<= 1 }
            let left = treeHash(leaves.prefix(split))
            let right = treeHash(leaves.dropFirst(split))
            return Array(SHA256.hash(data: [1] + left + right))
        }

        var leaves: [[UInt8]] { records.map { TransparencyLog.recordHash($0) } }

        func note(size: Int, root: [UInt8]? = nil) -> [UInt8] {
            let hash = root ?? Self.treeHash(leaves.prefix(size)[...])
            let text = "go.sum database tree\n\(size)\n\(Data(hash).base64EncodedString())\n"
            let keyHash = key.keyHash
            let prefix = (0..<4).map { UInt8(truncatingIfNeeded: keyHash >> (24 - 8 * $0)) }
            let signature = try! signer.signature(for: Array(text.utf8))
            return Array((text + "\n\u{2014} \(name) \(Data(prefix + signature).base64EncodedString())\n").utf8)
        }

        func lookup(_ number: Int, data: [UInt8]? = nil) -> [UInt8] {
            Array("\(number)\n".utf8) + (data ?? records[number]) + [0x0A] + note(size: records.count)
        }

        var tile: [UInt8] { leaves.flatMap { $0 } }
    }

    struct Scripted: ChecksumDatabaseFetching {
        let answers: [String: [UInt8]]
        func fetch(endpoint: String) async -> ChecksumDatabaseAnswer {
            answers[endpoint].map { .found($0) } ?? .notFound
        }
    }

    static func record(_ module: String, _ version: String) -> [UInt8] {
        Array("\(module) \(version) h1:zip\(module.count)=\n\(module) \(version)/go.mod h1:mod=\n".utf8)
    }

    @Test func onlyARecordProvedInASignedTreeIsBelieved() async throws {
        let database = LocalDatabase(records: (0..<5).map { Self.record("example.com/m\($0)", "v1.0.0") })
        let tilePath = TransparencyLog.Tile(level: 0, index: 0, width: 5).path
        #expect(tilePath == "tile/8/0/000.p/5")
        let honest = ChecksumDatabaseClient(
            key: database.key, fetch: Scripted(answers: ["lookup/example.com/m3@v1.0.0": database.lookup(3), tilePath: database.tile]))
        let record = try await honest.lookup(try ModulePath("example.com/m3"), try ModuleVersion("v1.0.0"))
        #expect(record.number == 3 && record.zipHash == "h1:zip14=" && record.goModHash == "h1:mod=")

        // Another record's text under this number, a record number that is not its own, a tile changed.
        var tampered = database.tile
        tampered[70] ^= 1  // the hash of record 2, a sibling in the proof
        let cases: [(String, [String: [UInt8]])] = [
            ("substituted", ["lookup/example.com/m3@v1.0.0": database.lookup(3, data: Self.record("example.com/m3", "v1.0.0").map { $0 == UInt8(ascii: "z") ? UInt8(ascii: "Z") : $0 }), tilePath: database.tile]),
            ("renumbered", ["lookup/example.com/m3@v1.0.0": database.lookup(2, data: database.records[3]), tilePath: database.tile]),
            ("tile", ["lookup/example.com/m3@v1.0.0": database.lookup(3), tilePath: tampered]),
            ("unsigned", ["lookup/example.com/m3@v1.0.0": Array("3\n".utf8) + database.records[3] + Array("\ngo.sum database tree\n5\nAAAA\n\n".utf8), tilePath: database.tile]),
        ]
        for (name, answers) in cases {
            let client = ChecksumDatabaseClient(key: database.key, fetch: Scripted(answers: answers))
            do {
                _ = try await client.lookup(try ModulePath("example.com/m3"), try ModuleVersion("v1.0.0"))
                Issue.record("\(name): believed")
            } catch let error as ChecksumDatabaseClient.Failure {
                guard case .invalid = error else {
                    Issue.record("\(name): \(error)")
                    continue
                }
            } catch {
                Issue.record("\(name): \(error)")
            }
        }
    }

    @Test func aTreeSignedByAnotherKeyIsRefused() throws {
        let database = LocalDatabase(records: [Self.record("example.com/m", "v1.0.0")])
        let other = LocalDatabase(records: database.records)
        #expect(throws: TreeHead.Failure.self) { try TreeHead(verifying: database.note(size: 1), with: other.key) }
        let head = try TreeHead(verifying: database.note(size: 1), with: database.key)
        #expect(head.size == 1)
    }

    /// Sizes seen, kept in a file: only growing sizes, at most one entry per
    /// ten minutes, and what others saw merged in.
    @Test func theHistoryKeepsGrowingSizesAndSurvivesARestart() throws {
        let folder = TemporaryDirectory()
        let file = folder.path + "/heads"
        let minute: Int64 = 60 * 1_000_000_000
        do {
            let history = TreeHeadHistory(file: file)
            #expect(history.record(size: 10, at: 0))
            #expect(!history.record(size: 11, at: 5 * minute))
            #expect(!history.record(size: 9, at: 20 * minute))
            #expect(history.record(size: 12, at: 20 * minute))
            history.merge([TreeHeadHistory.Entry(seenAt: 15 * minute, size: 11), TreeHeadHistory.Entry(seenAt: 30 * minute, size: 5)])
        }
        let reopened = TreeHeadHistory(file: file)
        #expect(reopened.all.map(\.size) == [10, 11, 12])
        #expect(reopened.largest(seenAtOrBefore: 16 * minute)?.size == 11)
        #expect(reopened.largest(seenAtOrBefore: -1) == nil)
        #expect(reopened.firstHolding(record: 10)?.size == 11)
        try "garbage\n1 x\n".write(toFile: file, atomically: false, encoding: .utf8)
        #expect(TreeHeadHistory(file: file).all.isEmpty)
    }
}
