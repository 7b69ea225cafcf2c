import LRUCache
import Upstream

/// What the proxy answers a request: a status, a content type and either a
/// cached file (sent with sendfile) or a small body.
public struct ProxyAnswer: Sendable {
    public enum Body: Sendable {
        /// A complete file, opened and pinned until the last copy of the answer goes.
        case file(CacheHit)
        case bytes([UInt8])
        /// The upstream's body as it arrives, not stored (no room in the
        /// cache, a full disk, a path too long to name a file).
        case relay(RelayReader)
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
        /// The upstream's answer passed through as is, not stored: its errors,
        /// and files that fail their checks or cannot be stored.
        case passThrough = "pass"
        /// goedge's own error (no upstream reachable, a damaged transfer).
        case error
        /// Refused by the module policy.
        case denied
    }

    public var status: Int
    public var reason: String
    public var contentType: String
    public var body: Body
    public var cacheStatus: CacheStatus
    /// A `Warning` header value, for stale answers and marked versions.
    public var warning: String?
    /// Time spent on upstream transfers for this answer.
    public var upstreamDuration: Duration?
    /// What went wrong, when something did: what callers decide on, never
    /// the body's text.
    public var failure: ProxyFailure?
    /// An answer for the request that led the fetch alone (read-ahead's
    /// "the shared store has not got it"): a request that joined the fetch
    /// starts over instead of taking it.
    var isForLeaderOnly = false

    public init(
        status: Int, reason: String, contentType: String, body: Body, cacheStatus: CacheStatus, warning: String? = nil,
        upstreamDuration: Duration? = nil, failure: ProxyFailure? = nil
    ) {
        self.status = status
        self.reason = reason
        self.contentType = contentType
        self.body = body
        self.cacheStatus = cacheStatus
        self.warning = warning
        self.upstreamDuration = upstreamDuration
        self.failure = failure
    }

    /// The body's length; nil for a relayed body of unknown length.
    public var contentLength: Int64? {
        switch body {
        case .file(let hit): hit.size
        case .bytes(let bytes): Int64(bytes.count)
        case .relay(let reader): reader.length
        }
    }

    /// The body's bytes (a file's read whole: for small files such as
    /// go.mod); nil for a relayed body, which is read as it arrives.
    public var bodyBytes: [UInt8]? {
        switch body {
        case .bytes(let bytes): bytes
        case .file(let hit): try? hit.readAll()
        case .relay: nil
        }
    }

    /// goedge's own answer for `failure`, as text the go command prints.
    public static func failed(_ failure: ProxyFailure) -> ProxyAnswer {
        var answer = text(failure.status, "goedge: \(failure)")
        answer.failure = failure
        return answer
    }

    public static func text(_ status: Int, _ message: String, cacheStatus: CacheStatus = .error) -> ProxyAnswer {
        ProxyAnswer(
            status: status, reason: ResponseHead.standardReason(for: status),
            contentType: "text/plain; charset=utf-8", body: .bytes(Array((message + "\n").utf8)),
            cacheStatus: cacheStatus)
    }
}
