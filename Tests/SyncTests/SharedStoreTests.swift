import Foundation
import LRUCache
import Testing
import TestSupport
import Upstream

@testable import SharedStore

/// The shared store's own parts: its settings and credentials, the circuit
/// breaker, the bucket listing, and, against a store that accepts
/// connections and never answers, the read deadline and the bounded upload
/// queue. (Against a real store, Ceph: Integration.Fleet.)
@Suite struct SharedStoreTests {
    @Test func settingsAndCredentialsAreCheckedAndNeverShown() throws {
        let credentials = try S3Credentials.parse(
            "[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s3cr3t/KEY\r\n", file: "credentials")
        #expect(credentials.accessKey == "AKIAEXAMPLE" && credentials.secretKey == "s3cr3t/KEY")
        #expect(!"\(credentials)".contains("s3cr3t"))
        let env = try #require(try S3Credentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "B", "AWS_SESSION_TOKEN": "T"]))
        #expect(env.sessionToken == "T")
        #expect(try S3Credentials.fromEnvironment([:]) == nil)
        #expect(throws: SharedStoreSettings.Problem.self) { try S3Credentials.parse("AWS_ACCESS_KEY_ID=A\n", file: "f") }
        #expect(throws: SharedStoreSettings.Problem.self) { try S3Credentials.parse("AWS_ACCESS_KEY_ID=A\nAWS_SECRET_ACCESS_KEY=b c\n", file: "f") }

        let settings = try SharedStoreSettings(
            location: "s3://fleet-cache/go/modules/", endpoint: "http://127.0.0.1:7480/", credentials: credentials)
        #expect(settings.bucket == "fleet-cache" && settings.prefix == "go/modules")
        #expect(settings.url(forKey: settings.key(for: "example.com/!azure/sdk/@v/v1.0.0.zip"))
            == "http://127.0.0.1:7480/fleet-cache/go/modules/example.com/%21azure/sdk/%40v/v1.0.0.zip")
        let hosted = try SharedStoreSettings(location: "s3://b12/", endpoint: "https://s3.example.com", pathStyle: false, credentials: credentials)
        #expect(hosted.url(forKey: "k") == "https://b12.s3.example.com/k")
        #expect(!settings.description.contains("s3cr3t"))
        for (location, endpoint) in [("s3://A/x", "http://h"), ("gs://b12/x", "http://h"), ("s3://ok-bucket", "ftp://h"), ("s3://ok-bucket", "http://u:p@h")] {
            #expect(throws: SharedStoreSettings.Problem.self, "\(location) \(endpoint)") {
                try SharedStoreSettings(location: location, endpoint: endpoint, credentials: credentials)
            }
        }
    }

    /// After three failures in a row the store is not asked; after the pause
    /// one probe goes, and its answer closes the breaker or doubles the pause.
    @Test func theBreakerAsksOneProbeAfterAPause() {
        var breaker = CircuitBreaker()
        let second: Int64 = 1_000_000_000
        var steps: [Bool] = []
        steps.append(breaker.failed(now: 0))
        steps.append(breaker.failed(now: 0))
        steps.append(breaker.allows(now: 0))
        steps.append(breaker.failed(now: 0))  // opens
        steps.append(breaker.allows(now: 5 * second))
        steps.append(breaker.allows(now: 10 * second))  // the probe
        steps.append(breaker.allows(now: 10 * second))  // and no one else meanwhile
        steps.append(breaker.failed(now: 10 * second))
        steps.append(breaker.allows(now: 25 * second))  // the pause doubled
        steps.append(breaker.allows(now: 30 * second))
        steps.append(breaker.succeeded())
        steps.append(breaker.allows(now: 30 * second))
        #expect(steps == [false, false, true, true, false, true, false, false, false, true, true, true])
        #expect(!breaker.isFailing)
        // A success between failures starts the count again.
        _ = breaker.failed(now: 0)
        _ = breaker.failed(now: 0)
        _ = breaker.succeeded()
        let opened = breaker.failed(now: 0)
        #expect(!opened)
    }

    @Test func aListingIsReadForItsKeysAndTimesOnly() {
        let listing = BucketListing(parsing: Array("""
            <?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><IsTruncated>true</IsTruncated>\
            <Contents><Key>p/a&amp;b</Key><LastModified>2026-12-07T19:03:09.699Z</LastModified></Contents>\
            <Contents><Key>p/c</Key><LastModified>2026-12-07T19:04:00.000Z</LastModified></Contents>\
            <NextContinuationToken>token&lt;1&gt;</NextContinuationToken></ListBucketResult>
            """.utf8))
        #expect(listing.objects.map(\.key) == ["p/a&b", "p/c"])
        #expect(listing.objects.first?.lastModified == "2026-12-07T19:03:09.699Z")
        #expect(listing.nextToken == "token<1>")
        #expect(BucketListing(parsing: Array("<Contents><Key>unclosed".utf8)).objects.isEmpty)
    }

    /// A store that accepts connections and never answers: each read costs
    /// the deadline, until the breaker stops asking; uploads wait in a
    /// bounded queue, and what does not fit is dropped and counted.
    @Test func aStalledStoreCostsADeadlineAndAFullQueueDrops() async throws {
        let hole = try BlackHole()
        defer { hole.close() }
        let engine = CurlEngine(configuration: UpstreamClientConfiguration())
        defer { engine.shutdown() }
        let settings = try SharedStoreSettings(
            location: "s3://fleet-cache/x", endpoint: "http://127.0.0.1:\(hole.port)",
            credentials: S3Credentials(accessKey: "a", secretKey: "b"))
        let store = SharedStore(settings: settings, engine: engine, deadline: .milliseconds(300), uploadQueue: 2, uploaders: 1)

        let folder = TemporaryDirectory()
        let cache = try DiskCache.open(configuration: .init(directory: folder.path, maxSize: 1 << 20))
        var files: [CacheHit] = []
        for index in 0..<4 {
            let writer = try cache.makeWriter(for: try CacheKey(group: "g\(index)", name: "zip"), expectedSize: 3)
            try writer.write([1, 2, 3])
            files.append(try await writer.commit())
        }
        for (index, file) in files.enumerated() { store.offer(path: "m\(index)/@v/v1.0.0.zip", file: file) }
        // At most two waiting or uploading (one stalled, one behind it): the rest dropped.
        #expect(store.status.uploadsDropped == 2)
        #expect(store.status.uploadsQueued == 2)

        let clock = ContinuousClock()
        for _ in 0..<3 {
            let started = clock.now
            let answer = await store.fetch(SourceRequest(path: "m/@v/v1.0.0.zip"))
            guard case .failed = answer.outcome else {
                Issue.record("answered: \(answer.outcome)")
                return
            }
            #expect(clock.now - started < .seconds(3))
        }
        #expect(!store.status.available)
        let started = clock.now
        _ = await store.fetch(SourceRequest(path: "m/@v/v1.0.0.zip"))
        #expect(clock.now - started < .milliseconds(100), "a failing store is not asked")
        // Failing: offers are dropped at once, not queued.
        let writer = try cache.makeWriter(for: try CacheKey(group: "g9", name: "zip"), expectedSize: 3)
        try writer.write([1, 2, 3])
        store.offer(path: "m9/@v/v1.0.0.zip", file: try await writer.commit())
        #expect(store.status.uploadsDropped == 3)
    }
}

/// A listening socket nobody accepts from: connections complete and then
/// nothing is ever answered, as from a store that hangs.
final class BlackHole: @unchecked Sendable {
    let descriptor: Int32
    let port: Int

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 64) == 0 else { throw TestFailure("black hole: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { Glibc.close(descriptor) }
}
