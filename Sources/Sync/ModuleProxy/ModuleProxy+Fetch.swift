import ChecksumDatabase
import Foundation
import LRUCache
import SharedStore
import Upstream

/// Fetching what the cache lacks from the sources, and deciding what to do
/// with what they send: keep it (checked, then committed), relay it
/// unstored (no room, a full disk), or refuse it. The sources only answer;
/// every decision is made here.
extension ModuleProxy {
    /// `askingSharedStore` false: the shared store was asked already (read-ahead from it alone, which a client then joined).
    func fetch(
        _ resource: ProxyResource, key: CacheKey, priority: TransferRequest.Priority, promotion: Promotion,
        expectedHash: String?, askingSharedStore: Bool = true
    ) async -> ProxyAnswer {
        let lifetime = resource.lifetime
        // What is stored, even if stale: for a conditional request and for stale-if-error.
        let previousKey = lifetime == .immutable ? resource.negativeCacheKey : key
        let previous = previousKey.flatMap { loadRecord($0) }
        var conditions: [(name: String, value: String)] = []
        if let record = previous?.record, record.status == 200 {
            if let etag = record.etag { conditions.append(("If-None-Match", etag)) }
            if let lastModified = record.lastModified { conditions.append(("If-Modified-Since", lastModified)) }
        }
        let request = SourceRequest(path: resource.upstreamPath, conditions: conditions, priority: priority, promotion: promotion)
        if askingSharedStore, let shared, isSharable(resource),
            let fromFleet = await fetchShared(resource, key: key, request: request, from: shared, expectedHash: expectedHash)
        {
            return fromFleet
        }
        let fetched = await upstream.fetch(request)

        var answer: ProxyAnswer
        switch fetched.outcome {
        case .found(let head, let body):
            if lifetime == .immutable {
                answer = await take(resource, key: key, head: head, body: body, from: fetched.from, priority: priority, expectedHash: expectedHash)
                if let shared, isSharable(resource), answer.cacheStatus == .miss, case .file(let hit) = answer.body,
                    let copy = store.duplicate(hit)
                {
                    // Written behind: the client never waits for it.
                    shared.offer(path: resource.upstreamPath, file: copy)
                }
            } else {
                answer = await remember(resource, key: key, head: head, body: body, from: fetched.from)
            }
        case .answered(let head, let bytes):
            switch head.status {
            case 304 where previous != nil:
                store.markRevalidated(previousKey!)
                answer = self.answer(resource, record: previous!.record, cacheStatus: .revalidated)
            case 404, 410:
                let record = CachedRecord(head: head, body: bytes)
                if let previousKey, head.endIsSignalled { await storeRecord(record, at: previousKey) }
                answer = self.answer(resource, record: record, cacheStatus: .miss)
            default:
                if let previous {
                    answer = stale(resource, previous.record, because: "\(fetched.from) answered \(head.status)")
                } else {
                    answer = self.answer(resource, record: CachedRecord(head: head, body: bytes), cacheStatus: .passThrough)
                }
            }
        case .failed(let error):
            if let previous {
                answer = stale(resource, previous.record, because: error.message)
            } else {
                answer = .failed(.unreachable(upstream: fetched.from, file: "\(resource)", reason: error.message))
            }
        case .exhausted(let reason):
            answer = .failed(.noUpstream(file: "\(resource)", reason: reason))
            answer.cacheStatus = .passThrough
        }
        answer.upstreamDuration = fetched.duration
        return answer
    }

    /// The file from the fleet's shared store, when it has it and it passes
    /// every check: the upstream's, and for a `.mod` or `.zip` of a module
    /// the checksum database covers, its `h1:` against the database's
    /// record. Anyone who can write the bucket can put anything there, so
    /// nothing from it is trusted more than the upstream. Nil: ask the
    /// upstream (a miss, a failure, a file refused, or no room to check it).
    ///
    /// A client's file has its checksum database record asked beside the
    /// store, so that the two round trips overlap; read-ahead from the
    /// store alone (`lookingUpFirst` false) asks for the record only once
    /// the store has the file, so that a file the fleet lacks costs the
    /// checksum database nothing.
    func fetchShared(
        _ resource: ProxyResource, key: CacheKey, request: SourceRequest, from shared: any SharedTier, expectedHash: String?,
        lookingUpFirst: Bool = true
    ) async -> ProxyAnswer? {
        var record = lookingUpFirst ? Self.recordLookup(resource, from: self) : nil
        let fetched = await shared.fetch(request)
        guard case .found(let head, let body) = fetched.outcome else {
            record?.cancel()
            return nil
        }
        if !lookingUpFirst { record = Self.recordLookup(resource, from: self) }
        if let length = head.contentLength, length > resource.maximumSize {
            body.close()
            return nil
        }
        // Checked in a temporary file: with no room for one, the upstream it is.
        guard let writer = try? store.makeWriter(for: key, expectedSize: head.contentLength), writer.isStoring else {
            body.close()
            return nil
        }
        do {
            while let chunk = try await body.next() {
                guard writer.bytesWritten + Int64(chunk.count) <= resource.maximumSize else { throw SharedRefusal("larger than goedge accepts") }
                try chunk.withUnsafeBytes { try writer.write($0) }
            }
            if let declared = head.contentLength, declared != writer.bytesWritten {
                throw SharedRefusal("\(writer.bytesWritten) of \(declared) bytes arrived")
            }
            try await BlockingIO.run {
                do throws(ContentCheck.Failure) {
                    try ContentCheck.verify(resource, fileAt: writer.temporaryPath)
                } catch {
                    throw SharedRefusal(error.description)
                }
            }
            try await vouchFor(resource, fileAt: writer.temporaryPath, expectedHash: expectedHash, record: record)
        } catch {
            body.close()
            writer.abandon()
            let reason = (error as? SharedRefusal)?.reason ?? "\(error)"
            shared.rejected(path: request.path, reason: reason)
            sharedRejections.increment()
            logger.warning(
                "refused a file from the shared store: fetching it from the upstream", metadata: ["path": "\(resource)", "problem": "\(reason)"])
            return nil
        }
        do {
            let hit = try await writer.commit()
            var answer = self.answer(resource, file: hit, cacheStatus: .miss)
            answer.upstreamDuration = fetched.duration
            return answer
        } catch {
            return nil
        }
    }

    /// What only someone other than the bucket's writers can say about a
    /// file from it: its `h1:` as the checksum database records it (and as
    /// a go.sum expects it, at prefetch); an `.info` must name its version.
    private func vouchFor(
        _ resource: ProxyResource, fileAt path: String, expectedHash: String?,
        record lookup: Task<ChecksumDatabaseClient.Record, any Error>?
    ) async throws {
        switch resource {
        case .info(_, let version):
            let bytes = try await BlockingIO.run { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
            struct Info: Decodable {
                // swift-format-ignore: AlwaysUseLowerCamelCase
                let Version: String
            }
            guard (try? JSONDecoder().decode(Info.self, from: Data(bytes)))?.Version == version.text else {
                throw SharedRefusal("an .info that does not name \(version.text)")
            }
        case .mod(let module, let version), .zip(let module, let version):
            let actual = try await BlockingIO.run { try Checksums.hash(of: resource, fileAt: path) }
            if let expectedHash, actual != expectedHash {
                throw SharedRefusal("its hash \(actual) is not go.sum's \(expectedHash)")
            }
            guard let lookup else { return }
            let record: ChecksumDatabaseClient.Record
            do {
                record = try await lookup.value
            } catch {
                throw SharedRefusal("the checksum database cannot vouch for \(module.path)@\(version.text): \(error)")
            }
            let recorded = resource.isZip ? record.zipHash : record.goModHash
            guard actual == recorded else {
                throw SharedRefusal("its hash \(actual) is not the checksum database's \(recorded)")
            }
        case .sumdb(let request):
            guard case .lookup(let module, let version) = request.endpoint, let client = checksumDatabase(covering: module) else {
                throw SharedRefusal("not a file the shared store holds")
            }
            let bytes = try await BlockingIO.run { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
            do {
                _ = try await client.verify(lookup: bytes, module, version)
            } catch {
                throw SharedRefusal("the checksum database's key does not vouch for it: \(error)")
            }
        default:
            throw SharedRefusal("not a file the shared store holds")
        }
    }

    /// The checksum database's record of a `.mod` or `.zip`'s version, when
    /// a database covers its module: started at once, awaited when the file is in.
    private static func recordLookup(_ resource: ProxyResource, from proxy: ModuleProxy) -> Task<ChecksumDatabaseClient.Record, any Error>? {
        switch resource {
        case .mod(let module, let version), .zip(let module, let version):
            guard let client = proxy.checksumDatabase(covering: module) else { return nil }
            return Task { try await client.lookup(module, version) }
        default:
            return nil
        }
    }

    /// What the fleet's shared store holds: the immutable files of a module
    /// version, and the checksum database's lookups for the database goedge
    /// checks with (each proved against its key before it is used, so a
    /// later runner asks the database's own server for a few tiles rather
    /// than for every version).
    func isSharable(_ resource: ProxyResource) -> Bool {
        switch resource {
        case .mod, .zip: true
        case .info(_, let version): version.isCanonical
        case .sumdb(let request):
            if case .lookup(let module, _) = request.endpoint, request.name == releaseDating?.databaseName,
                checksumDatabase(covering: module) != nil
            {
                true
            } else {
                false
            }
        default: false
        }
    }

    /// An immutable file's body: kept when it may be (checked, then
    /// committed), relayed unstored when the cache has no room for it.
    private func take(
        _ resource: ProxyResource, key: CacheKey, head: ResponseHead, body: SourceBody, from upstream: String,
        priority: TransferRequest.Priority, expectedHash: String?
    ) async -> ProxyAnswer {
        let file = "\(resource)"
        if let length = head.contentLength, length > resource.maximumSize {
            body.close()
            return .failed(.unreachable(upstream: upstream, file: file, reason: "the upstream's answer is larger than goedge accepts (\(resource.maximumSize) bytes)"))
        }
        guard let writer = try? store.makeWriter(for: key, expectedSize: head.contentLength), writer.isStoring else {
            // No room (or no disk space): passed to the client as it arrives, never written.
            let reason = store.isDiskFull ? "the disk is full" : "no room in the cache"
            noteUnstorable(resource, because: reason)
            var answer = ProxyAnswer(
                status: 200, reason: "OK", contentType: resource.contentType, body: .relay(body.reader), cacheStatus: .passThrough)
            answer.failure = .cannotStore(file: file, reason: reason)
            return answer
        }
        do {
            while let chunk = try await body.next() {
                guard writer.bytesWritten + Int64(chunk.count) <= resource.maximumSize else {
                    body.close()
                    writer.abandon()
                    return .failed(.unreachable(upstream: upstream, file: file, reason: "the upstream's answer is larger than goedge accepts (\(resource.maximumSize) bytes)"))
                }
                do {
                    try chunk.withUnsafeBytes { try writer.write($0) }
                } catch {
                    // goedge's own failure (the disk filled while a body of
                    // unannounced size was written), not the upstream's: the
                    // client still gets the file, fetched again and relayed unstored.
                    body.close()
                    writer.abandon()
                    noteUnstorable(resource, because: "\(error)")
                    var answer = await passThrough(resource, priority: priority)
                    if answer.status == 200 { answer.failure = .cannotStore(file: file, reason: "\(error)") }
                    return answer
                }
            }
        } catch {
            writer.abandon()
            return .failed(.unreachable(upstream: upstream, file: file, reason: error.reason))
        }
        return await accept(resource, head: head, writer: writer, from: upstream, expectedHash: expectedHash)
    }

    /// A changing answer's body (a list, `@latest`, a query, checksum
    /// database state): held in memory, checked, stored with its time.
    private func remember(
        _ resource: ProxyResource, key: CacheKey, head: ResponseHead, body: SourceBody, from upstream: String
    ) async -> ProxyAnswer {
        guard let bytes = await body.collect(limit: Int(resource.maximumSize)) else {
            return .failed(.unreachable(upstream: upstream, file: "\(resource)", reason: "the answer was cut, or larger than goedge accepts"))
        }
        var record = CachedRecord(head: head, body: bytes)
        record.contentType = resource.contentType
        do throws(ContentCheck.Failure) {
            try ContentCheck.verify(resource, bytes: bytes)
        } catch {
            return damaged(resource, record: record, reason: error.description, from: upstream)
        }
        if head.endIsSignalled { await storeRecord(record, at: key) }
        return answer(resource, record: record, cacheStatus: .miss)
    }

    /// Takes a body written whole in: checks it, stores it when it may be
    /// kept, and answers with it.
    ///
    /// A body whose end the protocol did not signal, or that fails its
    /// check, is passed to the client as the upstream sent it and not kept:
    /// the go command then judges it as it would have without goedge. A
    /// body that does not match the go.sum hash it was fetched against (a
    /// prefetch) is a ``ProxyFailure/checksumMismatch(file:expected:actual:)``.
    private func accept(
        _ resource: ProxyResource, head: ResponseHead, writer: CacheWriter, from upstream: String, expectedHash: String?
    ) async -> ProxyAnswer {
        let file = "\(resource)"
        let length = writer.bytesWritten
        if let declared = head.contentLength, declared != length {
            // libcurl holds a body to its Content-Length; this is belt and braces.
            writer.abandon()
            return .failed(.unreachable(upstream: upstream, file: file, reason: "\(length) of \(declared) bytes arrived"))
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
        _ writer: CacheWriter, _ resource: ProxyResource, damagedBecause reason: String?, from upstream: String
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

    private func damaged(_ resource: ProxyResource, record: CachedRecord, reason: String, from upstream: String) -> ProxyAnswer {
        noteDamaged(answer(resource, record: record, cacheStatus: .passThrough), resource, reason: reason, from: upstream)
    }

    private func noteDamaged(_ answer: ProxyAnswer, _ resource: ProxyResource, reason: String, from upstream: String) -> ProxyAnswer {
        logger.warning(
            "damaged file from upstream: passed through, not stored",
            metadata: ["path": "\(resource)", "upstream": "\(upstream)", "problem": "\(reason)"])
        damagedFiles.increment()
        var answer = answer
        answer.failure = .damagedFile(upstream: upstream, file: "\(resource)", reason: reason)
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
        let fetched = await upstream.fetch(SourceRequest(path: resource.upstreamPath, priority: priority))
        switch fetched.outcome {
        case .found(_, let body):
            return ProxyAnswer(
                status: 200, reason: "OK", contentType: resource.contentType, body: .relay(body.reader), cacheStatus: .passThrough)
        case .answered(let head, let bytes):
            return answer(resource, record: CachedRecord(head: head, body: bytes), cacheStatus: .passThrough)
        case .failed(let error):
            return .failed(.unreachable(upstream: fetched.from, file: "\(resource)", reason: error.message))
        case .exhausted(let reason):
            var answer = ProxyAnswer.failed(.noUpstream(file: "\(resource)", reason: reason))
            answer.cacheStatus = .passThrough
            return answer
        }
    }
}

/// Why a file from the shared store was not taken.
struct SharedRefusal: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

extension ProxyResource {
    /// What the shared store holds: the files that never change.
}
