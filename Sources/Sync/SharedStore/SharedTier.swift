import LRUCache
import Upstream

/// A fleet's second tier as the proxy sees it: read through on a local miss
/// for an immutable file, written behind once a file from the upstream is
/// committed. ``SharedStore`` (an S3-compatible bucket) is the real one;
/// tests put a scripted store in its place for what a real one cannot do
/// on demand (a slow first byte, a 503 SlowDown, a body cut midway).
public protocol SharedTier: Sendable {
    /// The file at `request.path` as the fleet has it: ``SourceOutcome/found(_:_:)``,
    /// a 404 when it has not, a failure (the tier is down, or not asked while it is).
    func fetch(_ request: SourceRequest) async -> SourceAnswer

    /// Stores `file` (committed here, from the upstream) at `path` in the
    /// background: never waits, and drops it (counted) when the queue is
    /// full, the tier is failing, or writing is off. Takes `file` over.
    func offer(path: String, file: CacheHit)

    /// Notes that a file the tier gave was refused (it failed its checks).
    func rejected(path: String, reason: String)

    /// What `goedge status`, `/-/readyz` and the metrics say of it.
    var status: SharedStoreStatus { get }

    /// Small objects of goedge's own beside the module files (the checksum
    /// database's tree heads the fleet has seen): their keys and when the
    /// store last modified each, a page at most.
    func list(prefix: String, startAfter: String?) async -> BucketListing?
    /// A small object whole, with the store's `Last-Modified`.
    func read(key: String, limit: Int) async -> (bytes: [UInt8], lastModified: String?)?
    /// Writes a small object unless one is there; whether one is there now.
    func write(key: String, bytes: [UInt8]) async -> Bool
}

/// The shared store's state, for `goedge status` and `/-/readyz`.
public struct SharedStoreStatus: Codable, Sendable, Equatable {
    public var store: String
    public var mode: String
    /// Answering, or failing (then not asked for a while).
    public var available: Bool
    public var lastError: String?
    public var hits = 0
    public var misses = 0
    public var errors = 0
    /// Files it gave that failed their checks (and were fetched from the upstream instead).
    public var rejected = 0
    public var bytesRead: Int64 = 0
    /// Time clients waited for the store's answers (until its head), in all.
    public var waitedMilliseconds: Int64 = 0
    public var bytesWritten: Int64 = 0
    public var uploadsQueued = 0
    public var uploadsStored = 0
    /// Uploads another agent had made first (412): nothing to do.
    public var uploadsExisting = 0
    public var uploadsFailed = 0
    public var uploadsDropped = 0

    public init(store: String, mode: String, available: Bool) {
        self.store = store
        self.mode = mode
        self.available = available
    }
}
