import Logging
import Testing
import GoModules
import LRUCache
import ModuleProxy
import TestSupport

@testable import Upstream

/// What a pass-through (a file the cache has no room for, an answer for a
/// path too long to store) leaves behind once its client has it: nothing.
/// Over the real libcurl, against the Go fixture: the transfer, its sink and
/// its relay must not keep each other alive.
@Suite(.serialized) struct PassThroughLifetimeTests {
    private func proxy(upstream: GoProxyFixture, maxSize: Int64) throws -> (ModuleProxy, TemporaryDirectory) {
        let folder = TemporaryDirectory()
        let store = try DiskCache.open(configuration: .init(directory: folder.path, maxSize: maxSize))
        let engine = CurlEngine(configuration: UpstreamClientConfiguration())
        let chain = UpstreamChain(list: try UpstreamList(parsing: upstream.url), engine: engine)
        let proxy = ModuleProxy(
            store: store, upstream: chain, freshness: FreshnessPolicy(), readAhead: ReadAhead(enabled: false),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let background = proxy.background
        Task { await background.run() }
        return (proxy, folder)
    }

    private static func alive() -> (transfers: Int, relays: Int) {
        (CurlTransfer.alive.load(ordering: .relaxed), Relay.alive.load(ordering: .relaxed))
    }

    /// Waits (bounded) until no more of the upstream path is alive than at
    /// `before`, and says how many more there are.
    private func settles(from before: (transfers: Int, relays: Int)) async -> (transfers: Int, relays: Int) {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        var now = Self.alive()
        while clock.now < deadline && (now.transfers > before.transfers || now.relays > before.relays) {
            await Task.yield()
            now = Self.alive()
        }
        return (now.transfers - before.transfers, now.relays - before.relays)
    }

    @Test func aFileWithNoRoomInTheCacheLeavesNothingAlive() async throws {
        let upstream = try GoProxyFixture()
        let (proxy, folder) = try proxy(upstream: upstream, maxSize: 64 << 10)
        defer { withExtendedLifetime(folder) {} }
        let before = Self.alive()
        for _ in 0..<20 {
            let answer = await proxy.answer(.zip(try ModulePath("example.com/big"), try ModuleVersion("v1.0.0")))
            #expect(answer.status == 200)
            #expect(answer.cacheStatus == .passThrough)
            guard case .relay(let reader) = answer.body else {
                Issue.record("not relayed: \(answer.body)")
                return
            }
            var received = 0
            while let chunk = try await reader.next() { received += chunk.count }
            #expect(received > 64 << 10)
            _ = consume answer
        }
        let alive = await settles(from: before)
        // At most as many as before: other suites' relays may have gone meanwhile.
        #expect(alive.transfers <= 0 && alive.relays <= 0, "\(alive) more alive than before")
    }

    @Test func aPathTooLongToStoreLeavesNothingAlive() async throws {
        let upstream = try GoProxyFixture()
        let (proxy, folder) = try proxy(upstream: upstream, maxSize: 64 << 20)
        defer { withExtendedLifetime(folder) {} }
        let long = try ModulePath("example.com/any/" + String(repeating: "l", count: 300))
        let before = Self.alive()
        for _ in 0..<20 {
            let answer = await proxy.answer(.info(long, try ModuleVersion("v1.0.0")))
            #expect(answer.status == 200)
            if case .relay(let reader) = answer.body {
                while try await reader.next() != nil {}
            }
            _ = consume answer
        }
        let alive = await settles(from: before)
        // At most as many as before: other suites' relays may have gone meanwhile.
        #expect(alive.transfers <= 0 && alive.relays <= 0, "\(alive) more alive than before")
    }
}
