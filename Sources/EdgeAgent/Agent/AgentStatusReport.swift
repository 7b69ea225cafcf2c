#if canImport(Glibc)
import Glibc
#endif
import Sync

/// What `GET /-/api/status` answers and `goedge status` shows.
struct AgentStatusReport: Codable, Sendable {
    struct Cache: Codable, Sendable {
        var directory: String
        var sizeBytes: Int64
        var limitBytes: Int64
        var files: Int
        var modules: Int
        var evictions: Int
        var indexLoaded: Bool
    }

    struct Requests: Codable, Sendable {
        var total: Int
        /// Share of answers that needed no body from an upstream; nil before any.
        var hitRatio: Double?
        var readAheadFiles: Int
        var readAheadUsed: Int
    }

    var version: String
    var pid: Int32
    var uptimeSeconds: Int64
    /// Where it listens (or that systemd passed the sockets).
    var listening: String
    var socketActivated: Bool
    var cache: Cache
    var requests: Requests
    var upstreams: [UpstreamHealth.State]
    var prefetch: PrefetchHistory
}

extension AgentStatusReport {
    /// The agent's state now.
    init(
        started: ContinuousClock.Instant, listening: String, socketActivated: Bool, proxy: ModuleProxy, prefetcher: Prefetcher,
        statistics: ServerStatistics
    ) {
        let store = proxy.store
        let cache = store.statistics()
        let readAhead = proxy.readAhead.statistics
        self.init(
            version: GoEdge.version, pid: getpid(), uptimeSeconds: (ContinuousClock.now - started).components.seconds,
            listening: listening, socketActivated: socketActivated,
            cache: Cache(
                directory: store.configuration.directory, sizeBytes: cache.diskUsage, limitBytes: cache.maxSize,
                files: cache.files, modules: cache.groups, evictions: cache.evictions, indexLoaded: store.isIndexLoaded),
            requests: Requests(
                total: statistics.total - statistics.count(.agent), hitRatio: statistics.hitRatio,
                readAheadFiles: readAhead.filesReadAhead, readAheadUsed: readAhead.filesUsed),
            upstreams: proxy.chain.health.states, prefetch: prefetcher.recent)
    }
}

/// What `GET /-/readyz` answers.
struct ReadinessReport: Codable, Sendable {
    var ready: Bool
    var indexLoaded: Bool
    var cacheWritable: Bool
    /// Some upstream answered its last request, or none was needed yet.
    var upstreamAnswering: Bool
}
