import ChecksumDatabase
import CoreMetrics
import LRUCache
import ModulePolicy
import Logging
import SharedStore
import Synchronization
import Upstream

/// Answers GOPROXY requests from the disk cache, fetching what is missing or
/// stale from the upstreams.
///
/// - Immutable files (`.mod`, `.zip`, canonical `.info`, sumdb lookups and
///   tiles) are stored once, complete and checked, and served from disk for
///   as long as they stay in the cache, whatever the upstream does later.
/// - Answers that change (`list`, `@latest`, query `.info`, sumdb state) are
///   fresh for a time to live, then revalidated with a conditional request,
///   and served stale, with a `Warning`, when the upstream fails.
/// - 404 and 410 answers are remembered briefly.
/// - Concurrent misses for one file share one upstream fetch.
///
/// Time comes from a ``WallClock`` and the network through a
/// ``FileSource``: both are seams, so that all of this is tested
/// in-process without sleeping or sockets.
public final class ModuleProxy: Sendable {
    public let store: DiskCache
    /// Where misses are fetched: the upstream list (``UpstreamChain``), or a test's scripted source.
    public let upstream: any FileSource
    public let freshness: FreshnessPolicy
    public let clock: any WallClock
    let flights: SingleFlight<CacheKey>
    /// Fetches of paths too long to store, shared as relays.
    let passThroughFlights: SingleFlight<String>
    let logger: Logger
    /// Fetching what clients will ask for next.
    public let readAhead: ReadAhead
    /// What may be fetched: applied to every answer, whoever asks.
    public let policy: PolicyHolder
    /// How the release-age cooldown dates versions; its checksum database also vouches for the shared store's files.
    public let releaseDating: ReleaseDating?
    /// A fleet's second tier (an S3-compatible bucket): asked before the upstreams for immutable files, written behind.
    public let shared: (any SharedTier)?
    /// Where fetches, read-ahead and prefetch jobs run: the agent runs it (``BackgroundWork/run()``).
    public let background: BackgroundWork
    /// Requests that waited on another's fetch instead of starting one.
    private let joins = Counter(label: "goedge_singleflight_joins_total")
    /// Files from the shared store refused because they failed their checks (the upstream's or the checksum database's).
    let sharedRejections = Counter(label: "goedge_shared_store_verification_failures_total")
    /// Upstream files passed to a client but not stored because they failed their checks.
    let damagedFiles = Counter(label: "goedge_upstream_damaged_files_total")
    /// Files of versions with a known vulnerability served under `vuln-action = "warn"`.
    let vulnerableServed = Counter(label: "goedge_policy_warnings_total")
    /// A full disk was warned about (cleared once a file is stored again).
    let diskFullWarned = Atomic<Bool>(false)

    /// Largest error body kept from an upstream (the go command shows the first lines).
    static let errorBodyLimit: Int64 = 64 << 10
    /// Stored files up to this size (not zips) are answered from memory once read.
    static let memoryServedLimit = 64 << 10

    public init(
        store: DiskCache, upstream: any FileSource, freshness: FreshnessPolicy, readAhead: ReadAhead = ReadAhead(),
        policy: PolicyHolder = PolicyHolder(),
        releaseDating: ReleaseDating? = ReleaseDating(authority: .firstSeen, history: TreeHeadHistory(file: nil)),
        shared: (any SharedTier)? = nil, clock: any WallClock = SystemClock(), logger: Logger
    ) {
        self.store = store
        self.policy = policy
        self.releaseDating = releaseDating
        self.shared = shared
        self.upstream = upstream
        self.freshness = freshness
        let background = BackgroundWork()
        self.background = background
        self.flights = SingleFlight(store: store, background: background)
        self.passThroughFlights = SingleFlight(store: store, background: background)
        self.readAhead = readAhead
        self.clock = clock
        self.logger = logger
    }

    /// Fetches in flight right now.
    public var fetchesInFlight: Int { flights.count }

    /// Whether `key` is being fetched right now.
    func isFetching(_ key: CacheKey) -> Bool { flights.contains(key) }

    /// The answer when the cache has it fresh: no waiting, no upstream. The
    /// server tries this on its event loop before going asynchronous.
    public func cachedAnswer(for resource: ProxyResource) -> ProxyAnswer? {
        cachedAnswer(for: ProxyRequest(resource))
    }

    /// ``cachedAnswer(for:)`` for a client: what it was given is counted
    /// and starts read-ahead, as when ``answer(_:priority:verify:)`` gives it.
    public func cachedClientAnswer(for request: ProxyRequest) -> ProxyAnswer? {
        if policy.isOpen {
            guard let cached = cachedAnswer(for: request) else { return nil }
            readAhead.clientAnswered(request, cached, proxy: self)
            return cached
        }
        let policy = self.policy.policy
        if let refusal = refusal(for: request.resource, by: policy) { return refusal }
        // The cooldown may need a version's time from the upstream: the asynchronous path.
        if cooldownApplies(to: request.resource, policy) { return nil }
        guard let cached = cachedAnswer(for: request) else { return nil }
        readAhead.clientAnswered(request, cached, proxy: self)
        return applying(policy, to: cached, for: request.resource)
    }

    /// ``cachedAnswer(for:)`` with the cache keys already worked out.
    public func cachedAnswer(for request: ProxyRequest) -> ProxyAnswer? {
        let resource = request.resource
        guard let key = request.cacheKey else { return nil }
        let lifetime = resource.lifetime
        if lifetime == .immutable {
            // Small files come from memory; zips always go out with sendfile.
            if case .zip = resource {
            } else if let small = store.content(key, limit: Self.memoryServedLimit) {
                return ProxyAnswer(status: 200, reason: "OK", contentType: resource.contentType, body: .bytes(small.bytes), cacheStatus: .hit)
            }
            if let hit = store.lookup(key) {
                return answer(resource, file: hit, cacheStatus: .hit)
            }
            guard let negativeKey = request.negativeCacheKey,
                let remembered = loadRecord(negativeKey),
                isFresh(remembered, lifetime)
            else { return nil }
            return answer(resource, record: remembered.record, cacheStatus: .negative)
        }
        guard let stored = loadRecord(key), isFresh(stored, lifetime) else { return nil }
        return answer(resource, record: stored.record, cacheStatus: stored.record.status == 200 ? .hit : .negative)
    }

    /// The answer for `resource`, from the cache or from the upstreams.
    public func answer(_ resource: ProxyResource, priority: TransferRequest.Priority = .client) async -> ProxyAnswer {
        await answer(ProxyRequest(resource), priority: priority)
    }

    /// ``answer(_:priority:)`` with the cache keys already worked out.
    ///
    /// `expectedHash` (a go.sum `h1:`) is checked before a fetched `.mod` or
    /// `.zip` is stored: a mismatch is never cached. A file already cached, or
    /// fetched for another request, is not checked here (see ``verify(_:for:expectedHash:)``).
    ///
    /// A caller whose task is cancelled while it waits for a fetch gets an
    /// answer at once (and should drop it); the fetch goes on for the others.
    ///
    /// The module policy applies to every answer: a denied version's files
    /// are refused before anything is looked up, and lists and resolved
    /// versions are answered as the policy lets them be seen.
    public func answer(
        _ request: ProxyRequest, priority: TransferRequest.Priority = .client, verify expectedHash: String? = nil
    ) async -> ProxyAnswer {
        let policy = self.policy.policy
        if let refusal = refusal(for: request.resource, by: policy) { return refusal }
        if let refusal = await cooldownRefusalBeforeFetching(request.resource, policy) { return refusal }
        let answer = await unpolicedAnswer(request, priority: priority, verify: expectedHash)
        let policed = applying(policy, to: answer, for: request.resource)
        return await applyingCooldown(policy, to: policed, for: request.resource)
    }

    func unpolicedAnswer(
        _ request: ProxyRequest, priority: TransferRequest.Priority, verify expectedHash: String?
    ) async -> ProxyAnswer {
        if let cached = priority == .client ? cachedClientAnswer(for: request) : cachedAnswer(for: request) {
            return cached
        }
        let resource = request.resource
        guard let key = request.cacheKey else {
            // Too long to name a file: relayed, and shared by identical requests arriving together.
            let (answer, _) = await passThroughFlights.answer(
                for: resource.upstreamPath, priority: priority, recheck: { nil },
                fetch: { [self] _ in await passThrough(resource, priority: priority) })
            return answer
        }
        let upstream = self.upstream
        let (answer, joined) = await flights.answer(
            for: key, priority: priority, recheck: { cachedAnswer(for: request) }, promoted: { upstream.promoted() },
            fetch: { [self] promotion in
                await fetch(resource, key: key, priority: priority, promotion: promotion, expectedHash: expectedHash)
            })
        if joined { joins.increment() }
        if priority == .client { readAhead.clientAnswered(request, answer, proxy: self) }
        return answer
    }

    // MARK: Answers

    func answer(_ resource: ProxyResource, file: CacheHit, cacheStatus: ProxyAnswer.CacheStatus) -> ProxyAnswer {
        ProxyAnswer(
            status: 200, reason: "OK", contentType: resource.contentType, body: .file(file), cacheStatus: cacheStatus)
    }

    func answer(_ resource: ProxyResource, record: CachedRecord, cacheStatus: ProxyAnswer.CacheStatus) -> ProxyAnswer {
        ProxyAnswer(
            status: record.status, reason: record.reason,
            contentType: record.status == 200 ? resource.contentType : (record.contentType ?? "text/plain; charset=utf-8"),
            body: .bytes(record.body), cacheStatus: cacheStatus)
    }

    func stale(_ resource: ProxyResource, _ record: CachedRecord, because problem: String) -> ProxyAnswer {
        logger.notice("serving a stale answer", metadata: ["path": "\(resource)", "problem": "\(problem)"])
        var answer = self.answer(resource, record: record, cacheStatus: .stale)
        answer.warning = "110 goedge \"Response is Stale\""
        return answer
    }
}
