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

/// What `GET /-/readyz` answers.
struct ReadinessReport: Codable, Sendable {
    var ready: Bool
    var indexLoaded: Bool
    var cacheWritable: Bool
    /// Some upstream answered its last request, or none was needed yet.
    var upstreamAnswering: Bool
}
