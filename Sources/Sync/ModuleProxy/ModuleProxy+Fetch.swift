import Synchronization
import LRUCache
import Upstream

/// Fetching from the upstreams, and taking what they send in.
extension ModuleProxy {
    func fetch(
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
        let handoff = RelayHandoff()
        let upstream = self.upstream
        let storeSink = Mutex<StoreSink?>(nil)
        let conditions = headers
        // The transfer runs as background work, so that a relayed body can be answered with while it goes on.
        background.submit {
            let result = await upstream.fetch(path: resource.upstreamPath, headers: conditions, priority: priority, promotion: promotion) {
                head in
                if head.status == 200 && lifetime == .immutable {
                    if let length = head.contentLength, length > resource.maximumSize {
                        return MemorySink(limit: resource.maximumSize)
                    }
                    if let writer = try? store.makeWriter(for: key, expectedSize: head.contentLength) {
                        if writer.isStoring {
                            let sink = StoreSink(writer: writer, limit: resource.maximumSize)
                            storeSink.withLock { $0 = sink }
                            return sink
                        }
                        // No room (or no disk space): passed to the client as it arrives, never written.
                        writer.abandon()
                    }
                    let relay = Relay(length: head.contentLength)
                    handoff.publish(head, relay)
                    return relay
                }
                return MemorySink(limit: head.status == 200 ? resource.maximumSize : Self.errorBodyLimit)
            }
            handoff.transferEnded(result)
        }
        let result: UpstreamChain.Result
        switch await handoff.outcome() {
        case .ended(let ended):
            result = ended
        case .relay(_, let relay):
            guard let reader = relay.makeReader() else { return .failed(.cannotStore(file: "\(resource)", reason: "the relay moved on")) }
            let reason = store.isDiskFull ? "the disk is full" : "no room in the cache"
            noteUnstorable(resource, because: reason)
            var answer = ProxyAnswer(
                status: 200, reason: "OK", contentType: resource.contentType, body: .relay(reader), cacheStatus: .passThrough)
            answer.failure = .cannotStore(file: "\(resource)", reason: reason)
            return answer
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
                if let previousKey, head.endIsSignalled { await storeRecord(record, at: previousKey) }
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
            if let failure = storeSink.withLock({ $0?.writeFailure }) {
                // goedge's own failure (the disk filled while a body of
                // unannounced size was written), not the upstream's: the
                // client still gets the file, fetched again and relayed unstored.
                noteUnstorable(resource, because: "\(failure)")
                answer = await passThrough(resource, priority: priority)
                if answer.status == 200 { answer.failure = .cannotStore(file: "\(resource)", reason: "\(failure)") }
            } else if let previous {
                answer = stale(resource, previous.record, because: error.message)
            } else {
                answer = .failed(.unreachable(upstream: upstream.redacted, file: "\(resource)", reason: error.message))
            }
        case .exhausted(let reason):
            answer = .failed(.noUpstream(file: "\(resource)", reason: reason))
            answer.cacheStatus = .passThrough
        }
        answer.upstreamDuration = result.duration
        return answer
    }

    /// Takes a 200 answer in: checks it, stores it when it may be kept, and
    /// answers with it.
    ///
    /// A body whose end the protocol did not signal, or that fails its
    /// check, is passed to the client as the upstream sent it and not kept:
    /// the go command then judges it as it would have without goedge. A
    /// body that does not match the go.sum hash it was fetched against (a
    /// prefetch) is a ``ProxyFailure/checksumMismatch(file:expected:actual:)``.
    private func accept(
        _ resource: ProxyResource, key: CacheKey, head: ResponseHead, sink: any ResponseBodySink, from upstream: UpstreamURL,
        expectedHash: String?
    ) async -> ProxyAnswer {
        let file = "\(resource)"
        guard let stored = sink as? StoreSink else {
            let bytes = (sink as? MemorySink)?.bytes ?? []
            var record = CachedRecord(head: head, body: bytes)
            record.contentType = resource.contentType
            do throws(ContentCheck.Failure) {
                try ContentCheck.verify(resource, bytes: bytes)
            } catch {
                return damaged(resource, record: record, reason: error.description, from: upstream)
            }
            if resource.lifetime != .immutable && head.endIsSignalled { await storeRecord(record, at: key) }
            return answer(resource, record: record, cacheStatus: resource.lifetime == .immutable ? .passThrough : .miss)
        }
        let writer = stored.writer
        let length = writer.bytesWritten
        if let declared = head.contentLength, declared != length {
            // libcurl holds a body to its Content-Length; this is belt and braces.
            writer.abandon()
            return .failed(.unreachable(upstream: upstream.redacted, file: file, reason: "\(length) of \(declared) bytes arrived"))
        }
        let verdict: Verdict
        do {
            verdict = try await BlockingIO.run {
                do throws(ContentCheck.Failure) {
                    try ContentCheck.verify(resource, fileAt: writer.temporaryPath)
                } catch {
                    return .damaged(error.description)
                }
                guard let expectedHash, resource.isZip || resource.isMod else { return .sound(hash: nil) }
                let actual = try Checksums.hash(of: resource, fileAt: writer.temporaryPath)
                return actual == expectedHash ? .sound(hash: actual) : .mismatch(actual: actual)
            }
        } catch {
            writer.abandon()
            return .failed(.cannotStore(file: file, reason: "\(error)"))
        }
        switch verdict {
        case .mismatch(let actual):
            writer.abandon()
            let failure = ProxyFailure.checksumMismatch(file: resource.checksumName, expected: expectedHash ?? "", actual: actual)
            logger.warning("checksum mismatch: not stored", metadata: ["path": "\(file)", "upstream": "\(upstream)", "problem": "\(failure)"])
            return .failed(failure)
        case .damaged(let reason):
            writer.stopStoring()
            return await handOver(writer, resource, damagedBecause: reason, from: upstream)
        case .sound(let hash):
            guard head.endIsSignalled else {
                writer.stopStoring()
                logger.notice("passed through without storing: the upstream did not signal the end of the body", metadata: ["path": "\(file)"])
                return await handOver(writer, resource, damagedBecause: nil, from: upstream)
            }
            do {
                let hit = try await writer.commit()
                if hit.isStored && !store.isDiskFull && diskFullWarned.exchange(false, ordering: .relaxed) {
                    logger.notice("the cache's disk has space again: files are stored")
                }
                if let hash, resource.isZip { await storeZipHash(hash, for: resource) }
                if !hit.isStored {
                    logger.notice("passed through without storing: no room in the cache", metadata: ["path": "\(file)"])
                }
                return answer(resource, file: hit, cacheStatus: hit.isStored ? .miss : .passThrough)
            } catch {
                logger.error("cannot store a fetched file", metadata: ["path": "\(file)", "error": "\(error)"])
                return .failed(.cannotStore(file: file, reason: "\(error)"))
            }
        }
    }

    private enum Verdict: Sendable {
        case sound(hash: String?)
        case damaged(String)
        case mismatch(actual: String)
    }

    /// Gives the client what the upstream sent, unstored.
    private func handOver(
        _ writer: CacheWriter, _ resource: ProxyResource, damagedBecause reason: String?, from upstream: UpstreamURL
    ) async -> ProxyAnswer {
        do {
            let hit = try await writer.commit()
            var answer = answer(resource, file: hit, cacheStatus: .passThrough)
            if let reason {
                answer = noteDamaged(answer, resource, reason: reason, from: upstream)
            }
            return answer
        } catch {
            return .failed(.cannotStore(file: "\(resource)", reason: "\(error)"))
        }
    }

    private func damaged(_ resource: ProxyResource, record: CachedRecord, reason: String, from upstream: UpstreamURL) -> ProxyAnswer {
        noteDamaged(answer(resource, record: record, cacheStatus: .passThrough), resource, reason: reason, from: upstream)
    }

    private func noteDamaged(_ answer: ProxyAnswer, _ resource: ProxyResource, reason: String, from upstream: UpstreamURL) -> ProxyAnswer {
        logger.warning(
            "damaged file from upstream: passed through, not stored",
            metadata: ["path": "\(resource)", "upstream": "\(upstream)", "problem": "\(reason)"])
        damagedFiles.increment()
        var answer = answer
        answer.failure = .damagedFile(upstream: upstream.redacted, file: "\(resource)", reason: reason)
        return answer
    }

    /// A file passed on unstored: noted at notice level, and a full disk
    /// warned about once until space returns.
    private func noteUnstorable(_ resource: ProxyResource, because reason: String) {
        logger.notice("passed through without storing", metadata: ["path": "\(resource)", "reason": "\(reason)"])
        if store.isDiskFull, !diskFullWarned.exchange(true, ordering: .relaxed) {
            logger.warning("the cache's disk is full: files are passed to clients without being stored")
        }
    }

    /// Requests whose path is too long to store are relayed as they arrive,
    /// never written and never whole in memory.
    func passThrough(_ resource: ProxyResource, priority: TransferRequest.Priority) async -> ProxyAnswer {
        let handoff = RelayHandoff()
        let upstream = self.upstream
        background.submit {
            let result = await upstream.fetch(path: resource.upstreamPath, headers: [], priority: priority, promotion: nil) { head in
                guard head.status == 200 else { return MemorySink(limit: Self.errorBodyLimit) }
                let relay = Relay(length: head.contentLength)
                handoff.publish(head, relay)
                return relay
            }
            handoff.transferEnded(result)
        }
        let result: UpstreamChain.Result
        switch await handoff.outcome() {
        case .relay(_, let relay):
            guard let reader = relay.makeReader() else { return .failed(.cannotStore(file: "\(resource)", reason: "the relay moved on")) }
            return ProxyAnswer(
                status: 200, reason: "OK", contentType: resource.contentType, body: .relay(reader), cacheStatus: .passThrough)
        case .ended(let ended):
            result = ended
        }
        switch result.outcome {
        case .response(let head, let sink, _):
            let record = CachedRecord(head: head, body: (sink as? MemorySink)?.bytes ?? [])
            return answer(resource, record: record, cacheStatus: .passThrough)
        case .unreachable(let error, let upstream):
            return .failed(.unreachable(upstream: upstream.redacted, file: "\(resource)", reason: error.message))
        case .exhausted(let reason):
            var answer = ProxyAnswer.failed(.noUpstream(file: "\(resource)", reason: reason))
            answer.cacheStatus = .passThrough
            return answer
        }
    }
}
