#if canImport(Glibc)
import Glibc
#endif
import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin
import SharedStore

/// What `GET /-/api/status` answers and `goedge status` shows.
package struct AgentStatusReport: Codable, Sendable {
    package struct Cache: Codable, Sendable {
        package var directory: String
        package var sizeBytes: Int64
        package var limitBytes: Int64
        package var files: Int
        package var modules: Int
        package var evictions: Int
        package var indexLoaded: Bool
    }

    package struct Requests: Codable, Sendable {
        package var total: Int
        /// Share of answers that needed no body from an upstream; nil before any.
        package var hitRatio: Double?
        package var readAheadFiles: Int
        package var readAheadUsed: Int
        /// Answers that were goedge's own errors (an upstream out of reach, say); nil from older agents.
        package var failed: Int?
    }

    package var version: String
    package var pid: Int32
    package var uptimeSeconds: Int64
    /// Where it listens (or that systemd passed the sockets).
    package var listening: String
    package var socketActivated: Bool
    package var cache: Cache
    package var requests: Requests
    package var upstreams: [UpstreamHealth.State]
    package var prefetch: PrefetchHistory
    /// The fleet's shared store, when one is configured.
    package var sharedStore: SharedStoreStatus?
}

extension AgentStatusReport {
    /// The agent's state now.
    init(
        started: ContinuousClock.Instant, listening: String, socketActivated: Bool, proxy: ModuleProxy,
        upstreams: UpstreamHealth, prefetcher: Prefetcher, statistics: ServerStatistics
    ) {
        let store = proxy.store
        let cache = store.statistics()
        let readAhead = proxy.readAhead.statistics
        self.init(
            version: GoEdgeVersion.current, pid: getpid(), uptimeSeconds: (ContinuousClock.now - started).components.seconds,
            listening: listening, socketActivated: socketActivated,
            cache: Cache(
                directory: store.configuration.directory, sizeBytes: cache.diskUsage, limitBytes: cache.maxSize,
                files: cache.files, modules: cache.groups, evictions: cache.evictions, indexLoaded: store.isIndexLoaded),
            requests: Requests(
                total: statistics.total - statistics.count(.agent), hitRatio: statistics.hitRatio,
                readAheadFiles: readAhead.filesReadAhead, readAheadUsed: readAhead.filesUsed, failed: statistics.count(.error)),
            upstreams: upstreams.states, prefetch: prefetcher.recent, sharedStore: proxy.shared?.status)
    }
}

/// What `GET /-/readyz` answers.
package struct ReadinessReport: Codable, Sendable {
    package var ready: Bool
    package var indexLoaded: Bool
    package var cacheWritable: Bool
    /// Some upstream answered its last request, or none was needed yet.
    package var upstreamAnswering: Bool
    /// The shared store answers (it is not needed to be ready: builds go to the upstream meanwhile); nil without one.
    package var sharedStoreAnswering: Bool? = nil
    /// Why not, when it does not.
    package var sharedStoreError: String? = nil
}
