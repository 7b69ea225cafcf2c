import ChecksumDatabase
import LRUCache
import SharedStore
import Logging
import ModuleProxy
import TestSupport

/// A proxy over a temporary cache folder, a scripted upstream and a manual
/// clock: everything the proxy's logic needs, in-process.
public struct ProxyHarness: Sendable {
    public let folder: TemporaryDirectory
    public let store: DiskCache
    public let upstream: ScriptedUpstream
    public let clock: ManualClock
    public let proxy: ModuleProxy

    /// `dating`: how the cooldown dates versions (by default, by first sight, as without a checksum database).
    public init(
        maxSize: Int64 = 64 << 20, freshness: FreshnessPolicy = FreshnessPolicy(), readAhead: Bool = false,
        dating: ReleaseDating.Authority = .firstSeen, shared: (any SharedTier)? = nil
    ) throws {
        folder = TemporaryDirectory()
        let clock = ManualClock()
        self.clock = clock
        store = try DiskCache.open(configuration: .init(directory: folder.path, maxSize: maxSize, now: { clock.now() }))
        upstream = ScriptedUpstream()
        proxy = ModuleProxy(
            store: store, upstream: upstream, freshness: freshness, readAhead: ReadAhead(enabled: readAhead),
            releaseDating: ReleaseDating(authority: dating, history: TreeHeadHistory(file: nil)), shared: shared, clock: clock,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        // The proxy's background work runs as the agent runs it, for as long as the test does.
        let background = proxy.background
        Task { await background.run() }
    }
}
