import CoreMetrics
import Foundation
import LRUCache
import Synchronization
import Upstream

/// A fleet's shared store: an S3-compatible bucket (AWS S3, GCS, R2, Ceph,
/// MinIO), read through within a short deadline and written behind, with
/// requests signed by the system libcurl (AWS Signature V4). It holds the
/// immutable files of the module protocol under their protocol paths.
///
/// It is trusted no more than the upstream: what it gives is checked by the
/// proxy before it is served or kept. After a few failures in a row it is
/// not asked for a while (``CircuitBreaker``), so a store that is down costs
/// one probe, not a timeout per request.
public final class SharedStore: SharedTier {
    public let settings: SharedStoreSettings
    let engine: CurlEngine
    /// The wait for a read's first byte; then the upstream is asked instead.
    let deadline: Duration
    private let breaker = Mutex(CircuitBreaker())
    private let counts: Mutex<SharedStoreStatus>
    private let uploads: UploadQueue
    /// Told once when the store starts failing (with why) and once when it answers again.
    private let transitions = Mutex<(@Sendable (_ failing: Bool, _ reason: String?) -> Void)?>(nil)
    private let requestsCounter = (
        hit: Counter(label: "goedge_shared_store_requests_total", dimensions: [("result", "hit")]),
        miss: Counter(label: "goedge_shared_store_requests_total", dimensions: [("result", "miss")]),
        error: Counter(label: "goedge_shared_store_requests_total", dimensions: [("result", "error")]),
        rejected: Counter(label: "goedge_shared_store_requests_total", dimensions: [("result", "rejected")]),
        skipped: Counter(label: "goedge_shared_store_requests_total", dimensions: [("result", "skipped")])
    )
    private let bytesIn = Counter(label: "goedge_shared_store_bytes_total", dimensions: [("direction", "in")])
    private let bytesOut = Counter(label: "goedge_shared_store_bytes_total", dimensions: [("direction", "out")])
    private let available = Gauge(label: "goedge_shared_store_available")

    public init(settings: SharedStoreSettings, engine: CurlEngine, deadline: Duration = .seconds(3), uploadQueue: Int = 256, uploaders: Int = 4) {
        self.settings = settings
        self.engine = engine
        self.deadline = deadline
        counts = Mutex(SharedStoreStatus(store: settings.description, mode: settings.mode.rawValue, available: true))
        uploads = UploadQueue(capacity: uploadQueue, concurrency: uploaders)
        available.record(1)
        uploads.start(self)
    }

    public func onTransition(_ body: @escaping @Sendable (_ failing: Bool, _ reason: String?) -> Void) {
        transitions.withLock { $0 = body }
    }

    public var status: SharedStoreStatus {
        var status = counts.withLock { $0 }
        status.uploadsQueued = uploads.queued
        return status
    }

    // MARK: Reading

    public func fetch(_ request: SourceRequest) async -> SourceAnswer {
        let started = ContinuousClock.now
        let from = "the shared store"
        guard breaker.withLock({ $0.allows(now: Self.now()) }) else {
            requestsCounter.skipped.increment()
            return SourceAnswer(outcome: .failed(TransportError(kind: .other, message: "the shared store is failing: not asked for a while")), from: from)
        }
        let transfer = signedRequest(settings.url(forKey: settings.key(for: request.path)), priority: request.priority)
        let begun = Settlement<BegunTransfer?>()
        Task { [engine] in
            let result = await engine.begin(transfer)
            // Too late: the upstream was asked instead. A body nobody reads stops its transfer.
            if !begun.settle(result), case .body(_, let relay, _) = result { relay.makeReader()?.close() }
        }
        Task { [deadline] in
            try? await Task.sleep(for: deadline)
            begun.settle(nil)
        }
        guard let result = await begun.value else {
            failed("no answer within \(deadline)")
            return SourceAnswer(outcome: .failed(TransportError(kind: .timeout, message: "the shared store did not answer within \(deadline)")), from: from, duration: ContinuousClock.now - started)
        }
        let duration = ContinuousClock.now - started
        // Read-ahead's waits are nobody's: only a client's count.
        if request.priority == .client || request.promotion?.isRaised == true {
            counts.withLock { $0.waitedMilliseconds += duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000 }
        }
        switch result {
        case .body(let head, let relay, let ended):
            answered()
            requestsCounter.hit.increment()
            counts.withLock {
                $0.hits += 1
                $0.bytesRead += head.contentLength ?? 0
            }
            bytesIn.increment(by: Int(head.contentLength ?? 0))
            Task {
                let result = await ended.value
                if case .failed(let error) = result.outcome { relay.finish(.failed(error.message)) } else { relay.finish(.complete) }
            }
            return SourceAnswer(outcome: .found(head, SourceBody(relay: relay)), from: from, duration: duration)
        case .answered(let head, let bytes, _):
            switch head.status {
            case 404:
                answered()
                requestsCounter.miss.increment()
                counts.withLock { $0.misses += 1 }
            default:
                failed(Self.refusal(head.status, bytes))
            }
            return SourceAnswer(outcome: .answered(head, []), from: from, duration: duration)
        case .failed(let error, _):
            failed(error.message)
            return SourceAnswer(outcome: .failed(error), from: from, duration: duration)
        }
    }

    public func rejected(path: String, reason: String) {
        requestsCounter.rejected.increment()
        counts.withLock { $0.rejected += 1 }
    }

    // MARK: Writing

    public func offer(path: String, file: CacheHit) {
        guard settings.mode == .readWrite else { return }
        guard !breaker.withLock({ $0.isFailing }), uploads.enqueue(UploadQueue.Job(key: settings.key(for: path), file: file)) else {
            counts.withLock { $0.uploadsDropped += 1 }
            Counter(label: "goedge_shared_store_uploads_total", dimensions: [("result", "dropped")]).increment()
            return
        }
    }

    /// Uploads one file, unless an object is there already (`If-None-Match: *`: the first writer wins).
    func upload(_ job: UploadQueue.Job) async {
        // The file's group stays pinned until the upload ended.
        defer { withExtendedLifetime(job) {} }
        guard let descriptor = job.file.takeDescriptor() else {
            finishUpload("failed")
            return
        }
        defer { close(descriptor) }
        var request = signedRequest(settings.url(forKey: job.key), priority: .background)
        request.upload = Upload(descriptor: descriptor, size: job.file.size)
        request.headers.append(("If-None-Match", "*"))
        request.headers.append(("Content-Type", "application/octet-stream"))
        let result = await engine.perform(request)
        switch result.outcome {
        case .response(let head, _) where head.status == 200:
            answered()
            bytesOut.increment(by: Int(job.file.size))
            counts.withLock { $0.bytesWritten += job.file.size }
            finishUpload("stored")
        case .response(let head, _) where head.status == 412:
            answered()
            finishUpload("exists")
        case .response(let head, let sink):
            failed(Self.refusal(head.status, (sink as? MemorySink)?.bytes ?? []))
            finishUpload("failed")
        case .failed(let error):
            failed(error.message)
            finishUpload("failed")
        }
    }

    private func finishUpload(_ result: String) {
        counts.withLock {
            switch result {
            case "stored": $0.uploadsStored += 1
            case "exists": $0.uploadsExisting += 1
            default: $0.uploadsFailed += 1
            }
        }
        Counter(label: "goedge_shared_store_uploads_total", dimensions: [("result", result)]).increment()
    }

    // MARK: Listing

    /// The objects under `prefix` (below the store's own prefix), a page of at most 1,000.
    public func list(prefix: String, startAfter: String?) async -> BucketListing? {
        var query = "list-type=2&prefix=" + SharedStoreSettings.encode(settings.key(for: prefix))
        if let startAfter { query += "&start-after=" + SharedStoreSettings.encode(settings.key(for: startAfter)) }
        let request = signedRequest(settings.bucketURL + "?" + query, priority: .background, limit: 4 << 20)
        let result = await engine.perform(request)
        guard case .response(let head, let sink) = result.outcome, head.status == 200, let bytes = (sink as? MemorySink)?.bytes else {
            return nil
        }
        return BucketListing(parsing: bytes)
    }

    /// A small object whole (at most `limit` bytes), with its `Last-Modified`; nil when absent or unreadable.
    public func read(key path: String, limit: Int) async -> (bytes: [UInt8], lastModified: String?)? {
        let request = signedRequest(settings.url(forKey: settings.key(for: path)), priority: .background, limit: Int64(limit))
        let result = await engine.perform(request)
        guard case .response(let head, let sink) = result.outcome, head.status == 200, let bytes = (sink as? MemorySink)?.bytes else {
            return nil
        }
        return (bytes, head.value(of: "last-modified"))
    }

    /// Writes a small object unless one is there (`If-None-Match: *`); whether it is there now.
    public func write(key path: String, bytes: [UInt8]) async -> Bool {
        guard settings.mode == .readWrite else { return false }
        var request = signedRequest(settings.url(forKey: settings.key(for: path)), priority: .background)
        request.method = "PUT"
        request.body = bytes
        request.headers.append(("If-None-Match", "*"))
        let result = await engine.perform(request)
        guard case .response(let head, _) = result.outcome else { return false }
        return head.status == 200 || head.status == 412
    }

    // MARK: Requests and state

    private func signedRequest(_ url: String, priority: TransferRequest.Priority, limit: Int64 = Int64(SourceAnswer.errorBodyLimit)) -> TransferRequest {
        var headers: [(name: String, value: String)] = [("x-amz-content-sha256", "UNSIGNED-PAYLOAD")]
        if let token = settings.credentials.sessionToken { headers.append(("x-amz-security-token", token)) }
        var request = TransferRequest(url: url, headers: headers, priority: priority) { _ in MemorySink(limit: limit) }
        request.signing = settings.signing
        return request
    }

    private func answered() {
        let recovered = breaker.withLock { $0.succeeded() }
        guard recovered else { return }
        counts.withLock {
            $0.available = true
        }
        available.record(1)
        transitions.withLock { $0 }?(false, nil)
    }

    private func failed(_ reason: String) {
        let opened = breaker.withLock { $0.failed(now: Self.now()) }
        counts.withLock {
            $0.errors += 1
            $0.lastError = reason
            if opened { $0.available = false }
        }
        requestsCounter.error.increment()
        guard opened else { return }
        available.record(0)
        transitions.withLock { $0 }?(true, reason)
    }

    /// What an error answer of the store says, for the log and `goedge status`.
    package static func refusal(_ status: Int, _ body: [UInt8]) -> String {
        let code = code(body).map { " " + $0 } ?? ""
        return status == 403
            ? "the store refused goedge's credentials or request (403\(code))" : "the store answered \(status)\(code)"
    }

    /// The S3 error code of an error answer (`SignatureDoesNotMatch`, `SlowDown`).
    static func code(_ bytes: [UInt8]) -> String? {
        let text = String(decoding: bytes.prefix(4096), as: UTF8.self)
        guard let open = text.range(of: "<Code>"), let close = text[open.upperBound...].range(of: "</Code>") else { return nil }
        let code = text[open.upperBound..<close.lowerBound]
        return code.count <= 64 && code.allSatisfy({ $0.isLetter || $0.isNumber }) ? String(code) : nil
    }

    /// Monotonic nanoseconds, for the breaker's pauses.
    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
