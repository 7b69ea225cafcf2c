import CoreMetrics
import LRUCache
import Logging

/// Answers GOPROXY requests from the disk cache, fetching what is missing or
/// stale from the upstream chain.
///
/// - Immutable files (`.mod`, `.zip`, canonical `.info`, sumdb lookups and
///   tiles) are stored once and served from disk for as long as they stay in
///   the cache, whatever the upstream does later.
/// - Answers that change (`list`, `@latest`, query `.info`, sumdb state) are
///   fresh for a time to live, then revalidated with a conditional request,
///   and served stale, with a `Warning`, when the upstream fails.
/// - 404 and 410 answers are remembered briefly.
/// - Concurrent misses for one file share one upstream fetch.
public final class ModuleProxy: Sendable {
    public let store: DiskCache
    public let chain: UpstreamChain
    public let freshness: FreshnessPolicy
    private let flights: SingleFlight
    let logger: Logger
    /// Fetching what clients will ask for next.
    public let readAhead: ReadAhead
    /// Requests that waited on another's fetch instead of starting one.
    private let joins = Counter(label: "goedge_singleflight_joins_total")

    /// Largest error body kept from an upstream (the go command shows the first lines).
    static let errorBodyLimit: Int64 = 64 << 10
    /// Stored files up to this size (not zips) are answered from memory once read.
    static let memoryServedLimit = 64 << 10

    public init(
        store: DiskCache, chain: UpstreamChain, freshness: FreshnessPolicy, readAhead: ReadAhead = ReadAhead(), logger: Logger
    ) {
        self.store = store
        self.chain = chain
        self.freshness = freshness
        self.flights = SingleFlight(store: store)
        self.readAhead = readAhead
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
        guard let cached = cachedAnswer(for: request) else { return nil }
        readAhead.clientAnswered(request, cached, proxy: self)
        return cached
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
    /// fetched for another request, is not checked here (see ``verify(_:expectedHash:)``).
    public func answer(
        _ request: ProxyRequest, priority: TransferRequest.Priority = .client, verify expectedHash: String? = nil
    ) async -> ProxyAnswer {
        if let cached = priority == .client ? cachedClientAnswer(for: request) : cachedAnswer(for: request) {
            return cached
        }
        let resource = request.resource
        guard let key = request.cacheKey else {
            return await passThrough(resource, priority: priority)
        }
        let engine = chain.engine
        let (answer, joined) = await flights.answer(
            for: key, priority: priority, recheck: { cachedAnswer(for: request) }, promoted: { engine.wakeUp() },
            fetch: { [self] promotion in
                await fetch(resource, key: key, priority: priority, promotion: promotion, expectedHash: expectedHash)
            })
        if joined { joins.increment() }
        if priority == .client { readAhead.clientAnswered(request, answer, proxy: self) }
        return answer
    }

    // MARK: Fetching

    private func fetch(
        _ resource: ProxyResource, key: CacheKey, priority: TransferRequest.Priority, promotion: Promotion,
        expectedHash: String?
    ) async -> ProxyAnswer {
        let lifetime = resource.lifetime
        // What is stored, even if stale: for a conditional request and for stale-if-error.
        let previousKey = lifetime == .immutable ? resource.negativeCacheKey : key
        let previous = previousKey.flatMap { loadRecord($0) }
        var headers: [(name: String, value: String)] = []
        if let record = previous?.record, record.status == 200 {
            if let etag = record.etag { headers.append(("If-None-Match", etag)) }
            if let lastModified = record.lastModified { headers.append(("If-Modified-Since", lastModified)) }
        }

        let store = self.store
        let result = await chain.fetch(path: resource.upstreamPath, headers: headers, priority: priority, promotion: promotion) { head in
            if head.status == 200 && lifetime == .immutable {
                if let length = head.contentLength, length > resource.maximumSize {
                    return MemorySink(limit: resource.maximumSize)
                }
                if let writer = try? store.makeWriter(for: key, expectedSize: head.contentLength) {
                    return StoreSink(writer: writer, limit: resource.maximumSize)
                }
            }
            return MemorySink(limit: head.status == 200 ? resource.maximumSize : Self.errorBodyLimit)
        }

        var answer: ProxyAnswer
        switch result.outcome {
        case .response(let head, let sink, let upstream):
            switch head.status {
            case 200:
                answer = await accept(resource, key: key, head: head, sink: sink, from: upstream, expectedHash: expectedHash)
            case 304 where previous != nil:
                store.markRevalidated(previousKey!)
                answer = self.answer(resource, record: previous!.record, cacheStatus: .revalidated)
            case 404, 410:
                let record = CachedRecord(head: head, body: (sink as? MemorySink)?.bytes ?? [])
                if let previousKey { storeRecord(record, at: previousKey) }
                answer = self.answer(resource, record: record, cacheStatus: .miss)
            default:
                if let previous {
                    answer = stale(resource, previous.record, because: "\(upstream.redacted) answered \(head.status)")
                } else {
                    let record = CachedRecord(head: head, body: (sink as? MemorySink)?.bytes ?? [])
                    answer = self.answer(resource, record: record, cacheStatus: .passThrough)
                }
            }
        case .unreachable(let error, let upstream):
            if let previous {
                answer = stale(resource, previous.record, because: error.message)
            } else {
                answer = .text(502, "goedge: \(upstream.redacted) failed for \(resource): \(error.message)")
            }
        case .exhausted(let reason):
            answer = .text(404, "goedge: \(resource) not found: \(reason)", cacheStatus: .passThrough)
        }
        answer.upstreamDuration = result.duration
        return answer
    }

    /// Takes a 200 answer in: checks it, stores it, and answers with it.
    private func accept(
        _ resource: ProxyResource, key: CacheKey, head: ResponseHead, sink: any ResponseBodySink, from upstream: UpstreamURL,
        expectedHash: String?
    ) async -> ProxyAnswer {
        if let stored = sink as? StoreSink {
            let writer = stored.writer
            do {
                let (hit, zipHash) = try await BlockingIO.run {
                    if let length = head.contentLength, length != writer.bytesWritten {
                        throw ContentCheck.Failure(description: "\(writer.bytesWritten) of \(length) bytes arrived")
                    }
                    try ContentCheck.verify(resource, fileAt: writer.temporaryPath, length: writer.bytesWritten)
                    let hash = try expectedHash.map { _ in try Checksums.hash(of: resource, fileAt: writer.temporaryPath) }
                    if let expectedHash, let hash, hash != expectedHash {
                        throw Checksums.Mismatch(resource: resource, expected: expectedHash, actual: hash)
                    }
                    return (try writer.commit(), resource.isZip ? hash : nil)
                }
                if let zipHash { storeZipHash(zipHash, for: resource) }
                if !hit.isStored {
                    logger.notice("passed through without storing: no room in the cache", metadata: ["path": "\(resource)"])
                }
                return answer(resource, file: hit, cacheStatus: .miss)
            } catch let mismatch as Checksums.Mismatch {
                writer.abandon()
                logger.warning("checksum mismatch: not stored", metadata: ["path": "\(resource)", "upstream": "\(upstream)", "problem": "\(mismatch)"])
                return .text(502, "goedge: \(mismatch)")
            } catch let failure as ContentCheck.Failure {
                writer.abandon()
                logger.warning("damaged file from upstream", metadata: ["path": "\(resource)", "upstream": "\(upstream)", "problem": "\(failure)"])
                return .text(502, "goedge: \(upstream.redacted) sent a damaged file for \(resource): \(failure)")
            } catch {
                writer.abandon()
                logger.error("cannot store a fetched file", metadata: ["path": "\(resource)", "error": "\(error)"])
                return .text(500, "goedge: cannot store \(resource): \(error)")
            }
        }
        let bytes = (sink as? MemorySink)?.bytes ?? []
        do {
            try ContentCheck.verify(resource, bytes: bytes)
        } catch {
            logger.warning("damaged answer from upstream", metadata: ["path": "\(resource)", "upstream": "\(upstream)", "problem": "\(error)"])
            return .text(502, "goedge: \(upstream.redacted) sent a damaged answer for \(resource): \(error)")
        }
        var record = CachedRecord(head: head, body: bytes)
        record.contentType = resource.contentType
        if resource.lifetime != .immutable { storeRecord(record, at: key) }
        return answer(resource, record: record, cacheStatus: .miss)
    }

    /// Requests whose path is too long to store are relayed without caching.
    private func passThrough(_ resource: ProxyResource, priority: TransferRequest.Priority) async -> ProxyAnswer {
        let result = await chain.fetch(path: resource.upstreamPath, priority: priority) { _ in
            MemorySink(limit: resource.maximumSize)
        }
        switch result.outcome {
        case .response(let head, let sink, _):
            var record = CachedRecord(head: head, body: (sink as? MemorySink)?.bytes ?? [])
            if head.status == 200 { record.contentType = resource.contentType }
            return answer(resource, record: record, cacheStatus: .passThrough)
        case .unreachable(let error, let upstream):
            return .text(502, "goedge: \(upstream.redacted) failed for \(resource): \(error.message)")
        case .exhausted(let reason):
            return .text(404, "goedge: \(resource) not found: \(reason)", cacheStatus: .passThrough)
        }
    }

    // MARK: Records

    private struct StoredRecord {
        var record: CachedRecord
        var storedAt: Int64
    }

    private func loadRecord(_ key: CacheKey) -> StoredRecord? {
        let stored: (bytes: [UInt8], storedAt: Int64)
        if let small = store.content(key, limit: Self.memoryServedLimit) {
            stored = small
        } else {
            guard let hit = store.lookup(key) else { return nil }
            defer { hit.release() }
            stored = ((try? hit.readAll()) ?? [], hit.storedAt)
        }
        guard let record = CachedRecord(decoding: stored.bytes) else {
            // Not a record (a damaged file): forget it rather than serve it.
            if store.isIndexLoaded { store.remove(group: key.group) }
            return nil
        }
        return StoredRecord(record: record, storedAt: stored.storedAt)
    }

    private func storeRecord(_ record: CachedRecord, at key: CacheKey) {
        let bytes = record.encoded()
        do {
            let writer = try store.makeWriter(for: key, expectedSize: Int64(bytes.count))
            try writer.write(bytes)
            try writer.commit().release()
        } catch {
            logger.error("cannot store an answer", metadata: ["key": "\(key)", "error": "\(error)"])
        }
    }

    private func isFresh(_ stored: StoredRecord, _ lifetime: ProxyResource.Lifetime) -> Bool {
        freshness.isFresh(lifetime: lifetime, status: stored.record.status, storedAt: stored.storedAt, now: WallClock.now())
    }

    // MARK: Answers

    private func answer(_ resource: ProxyResource, file: CacheHit, cacheStatus: ProxyAnswer.CacheStatus) -> ProxyAnswer {
        ProxyAnswer(
            status: 200, reason: "OK", contentType: resource.contentType, body: .file(file), cacheStatus: cacheStatus)
    }

    private func answer(_ resource: ProxyResource, record: CachedRecord, cacheStatus: ProxyAnswer.CacheStatus) -> ProxyAnswer {
        ProxyAnswer(
            status: record.status, reason: record.reason,
            contentType: record.status == 200 ? resource.contentType : (record.contentType ?? "text/plain; charset=utf-8"),
            body: .bytes(record.body), cacheStatus: cacheStatus)
    }

    private func stale(_ resource: ProxyResource, _ record: CachedRecord, because problem: String) -> ProxyAnswer {
        logger.notice("serving a stale answer", metadata: ["path": "\(resource)", "problem": "\(problem)"])
        var answer = self.answer(resource, record: record, cacheStatus: .stale)
        answer.warning = "110 goedge \"Response is Stale\""
        return answer
    }
}

/// Wall-clock time in nanoseconds since the epoch, as the store records it.
enum WallClock {
    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}

#if canImport(Glibc)
import Glibc
#endif
