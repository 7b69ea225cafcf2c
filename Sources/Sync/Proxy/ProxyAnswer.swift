import LRUCache

/// What goedge answers a client: a status, a content type and either a
/// cached file (sent with sendfile) or a small body.
public struct ProxyAnswer: Sendable {
    public enum Body: Sendable {
        /// A complete file, opened and pinned; the receiver releases it.
        case file(CacheHit)
        case bytes([UInt8])
        /// A body produced as it goes (progress of the agent's own work),
        /// sent chunked.
        case stream(AsyncStream<[UInt8]>)
    }

    /// How the answer was obtained, for logs and metrics.
    public enum CacheStatus: String, Sendable, CaseIterable {
        /// Served from the cache.
        case hit
        /// Fetched from an upstream (and stored, when storable).
        case miss
        /// Served from the cache after the upstream failed.
        case stale
        /// Confirmed unchanged by the upstream (304), then served from the cache.
        case revalidated
        /// A remembered 404/410.
        case negative
        /// An upstream error passed through as is.
        case passThrough = "pass"
        /// goedge's own error (no upstream reachable, a damaged file).
        case error
        /// An answer from one of the agent's own endpoints (`/-/…`).
        case agent
    }

    public var status: Int
    public var reason: String
    public var contentType: String
    public var body: Body
    public var cacheStatus: CacheStatus
    /// A `Warning` header value, for stale answers.
    public var warning: String?
    /// Time spent on upstream transfers for this answer.
    public var upstreamDuration: Duration?

    public init(
        status: Int, reason: String, contentType: String, body: Body, cacheStatus: CacheStatus, warning: String? = nil,
        upstreamDuration: Duration? = nil
    ) {
        self.status = status
        self.reason = reason
        self.contentType = contentType
        self.body = body
        self.cacheStatus = cacheStatus
        self.warning = warning
        self.upstreamDuration = upstreamDuration
    }

    /// The body's length; nil for a stream.
    public var contentLength: Int64? {
        switch body {
        case .file(let hit): hit.size
        case .bytes(let bytes): Int64(bytes.count)
        case .stream: nil
        }
    }

    /// Gives up the answer's file, if any.
    public func release() {
        if case .file(let hit) = body { hit.release() }
    }

    public static func text(_ status: Int, _ message: String, cacheStatus: CacheStatus = .error) -> ProxyAnswer {
        ProxyAnswer(
            status: status, reason: ResponseHead.standardReason(for: status),
            contentType: "text/plain; charset=utf-8", body: .bytes(Array((message + "\n").utf8)),
            cacheStatus: cacheStatus)
    }
}
