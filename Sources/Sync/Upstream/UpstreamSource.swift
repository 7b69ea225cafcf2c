import LRUCache
import Synchronization

/// One upstream proxy as a ``FileSource``: a GET over the engine, tried
/// again after a transient failure (``RetryPolicy``, out of the upstream's
/// ``RetryBudget``). A body cut midway is resumed from the same upstream,
/// with `Range` (an answer of 206 goes on where the body stopped; a 200 is
/// read past what was had): module files never change, so the reader sees
/// one body, whole or failed, whatever happened behind it.
public struct UpstreamSource: Sendable {
    public let url: UpstreamURL
    let engine: CurlEngine
    let health: UpstreamHealth
    let budget: RetryBudget
    let policy: RetryPolicy

    public init(url: UpstreamURL, engine: CurlEngine, health: UpstreamHealth, budget: RetryBudget = RetryBudget(), policy: RetryPolicy = RetryPolicy()) {
        self.url = url
        self.engine = engine
        self.health = health
        self.budget = budget
        self.policy = policy
    }

    /// What one try gave.
    private enum Try {
        /// A 200 whose body is on its way into `body`; `ended` settles when its transfer does.
        case body(ResponseHead, Relay, ended: Settlement<TransferResult>)
        case answered(ResponseHead, [UInt8])
        case failed(TransportError)
    }

    public func fetch(_ request: SourceRequest) async -> SourceAnswer {
        let started = ContinuousClock.now
        var attempts: [String] = []
        var attempt = 0
        while true {
            attempt += 1
            let tried = await tryOnce(request)
            switch tried {
            case .body(let head, let relay, let ended):
                attempts.append("\(url.redacted): \(head.status)")
                budget.answered()
                // The rest of the body, and any resumption, go on behind the reader.
                let finishing = BodyResumption(source: self, request: request, head: head, relay: relay, started: started)
                Task { await finishing.run(firstEnd: ended) }
                return SourceAnswer(outcome: .found(head, SourceBody(relay: relay)), from: url.redacted, duration: ContinuousClock.now - started, attempts: attempts)
            case .answered(let head, let bytes):
                attempts.append("\(url.redacted): \(head.status)")
                if RetryPolicy.isTransient(status: head.status),
                    await mayRetry(attempt: attempt, started: started, retryAfter: head.value(of: "retry-after").flatMap { Int($0) }, reason: "status \(head.status)")
                {
                    continue
                }
                budget.answered()
                return SourceAnswer(outcome: .answered(head, bytes), from: url.redacted, duration: ContinuousClock.now - started, attempts: attempts)
            case .failed(let error):
                attempts.append("\(url.redacted): \(error.message)")
                if RetryPolicy.isTransient(error), await mayRetry(attempt: attempt, started: started, retryAfter: nil, reason: "cut") {
                    continue
                }
                return SourceAnswer(outcome: .failed(error), from: url.redacted, duration: ContinuousClock.now - started, attempts: attempts)
            }
        }
    }

    /// Whether to try again now (after waiting), within the policy and the budget.
    func mayRetry(attempt: Int, started: ContinuousClock.Instant, retryAfter: Int?, reason: String) async -> Bool {
        guard attempt < policy.attempts, let wait = policy.wait(before: attempt + 1, retryAfter: retryAfter),
            ContinuousClock.now - started + wait < policy.totalTime, budget.take()
        else { return false }
        health.recordRetry(upstream: url.redacted, reason: reason)
        try? await Task.sleep(for: wait)
        return true
    }

    /// One GET; returns once a 200's body has begun (or the transfer ended).
    private func tryOnce(_ request: SourceRequest) async -> Try {
        let begun = await engine.begin(transferRequest(request, headers: request.conditions) { _ in MemorySink(limit: 0) })
        record(begun.ended)
        switch begun {
        case .body(let head, let relay, let ended): return .body(head, relay, ended: ended)
        case .answered(let head, let bytes, _): return .answered(head, bytes)
        case .failed(let error, _): return .failed(error)
        }
    }

    func transferRequest(
        _ request: SourceRequest, headers: [(name: String, value: String)],
        chooseSink: @escaping @Sendable (ResponseHead) -> any ResponseBodySink
    ) -> TransferRequest {
        // A promoted background fetch asks as a client from then on.
        let lane: TransferRequest.Priority = request.promotion?.isRaised == true ? .client : request.priority
        return TransferRequest(url: url.url(for: request.path), headers: headers, priority: lane, promotion: request.promotion, chooseSink: chooseSink)
    }

    /// Records the transfer in the upstream's health once it ends.
    func record(_ ended: Settlement<TransferResult>) {
        Task { record(await ended.value) }
    }

    func record(_ result: TransferResult) {
        switch result.outcome {
        case .failed(let error): health.record(upstream: url.redacted, status: nil, error: error.message, duration: result.duration)
        case .response(let head, _): health.record(upstream: url.redacted, status: head.status, error: nil, duration: result.duration)
        }
    }
}

/// Sees a 200's body to its end: when its transfer is cut, resumes it from
/// the same upstream (within the policy and the budget) into the same
/// window, else tells the reader it failed.
final class BodyResumption: Sendable {
    let source: UpstreamSource
    let request: SourceRequest
    let head: ResponseHead
    let relay: Relay
    let started: ContinuousClock.Instant

    init(source: UpstreamSource, request: SourceRequest, head: ResponseHead, relay: Relay, started: ContinuousClock.Instant) {
        self.source = source
        self.request = request
        self.head = head
        self.relay = relay
        self.started = started
    }

    func run(firstEnd: Settlement<TransferResult>) async {
        var result = await firstEnd.value
        var attempt = 1
        while true {
            guard case .failed(let error) = result.outcome else {
                relay.finish(.complete)
                return
            }
            // Only a body of known length, cut (not refused: nobody reads), can be resumed.
            attempt += 1
            guard RetryPolicy.isTransient(error), let total = head.contentLength,
                await source.mayRetry(attempt: attempt, started: started, retryAfter: nil, reason: "cut body")
            else {
                relay.finish(.failed(error.message))
                return
            }
            result = await resume(total: total)
        }
    }

    /// One more GET for the rest, fed into the same window.
    private func resume(total: Int64) async -> TransferResult {
        let offset = relay.received
        var headers = [(name: "Range", value: "bytes=\(offset)-")]
        if let etag = head.value(of: "etag") { headers.append((name: "If-Range", value: etag)) }
        let feed = RelayFeed(relay: relay, resumingAt: offset, total: total)
        let transfer = source.transferRequest(request, headers: headers) { head in
            feed.accept(head)
            return feed
        }
        let result = await source.engine.perform(transfer)
        source.record(result)
        return result
    }
}

/// Feeds one transfer's body into a window a reader takes from, without
/// ending it: the transfer may be cut, and another resume it. For a
/// resumed transfer: a 206 that starts where the body stopped goes on as it
/// is; a 200 (the upstream ignores ranges) is read past what the window
/// already had; anything else is refused.
final class RelayFeed: ResponseBodySink, Sendable {
    private let relay: Relay
    private let total: Int64
    private struct State {
        var skip: Int64 = 0
        var usable = false
        var refusal: String?
    }
    private let state = Mutex(State())

    /// The first transfer's body.
    init(relay: Relay) {
        self.relay = relay
        total = relay.length ?? -1
        state.withLock { $0.usable = true }
    }

    /// The rest of a body cut at `offset` of `total` bytes.
    init(relay: Relay, resumingAt offset: Int64, total: Int64) {
        self.relay = relay
        self.total = total
        state.withLock { $0.skip = offset }
    }

    func accept(_ head: ResponseHead) {
        state.withLock { state in
            switch head.status {
            case 206:
                // Content-Range: bytes START-END/TOTAL, starting where the window stopped.
                let expected = "bytes \(state.skip)-\(total - 1)/\(total)"
                state.usable = head.value(of: "content-range") == expected
                if !state.usable { state.refusal = "the resumed answer's range is not \(expected)" }
                state.skip = 0
            case 200:
                state.usable = head.contentLength == total
                if !state.usable { state.refusal = "the upstream answered the resumption with another body" }
            default:
                state.refusal = "the upstream answered the resumption \(head.status)"
            }
        }
    }

    var refusal: String? { state.withLock { $0.refusal } }

    func receive(_ bytes: UnsafeRawBufferPointer) -> SinkVerdict {
        let (usable, skip) = state.withLock { ($0.usable, $0.skip) }
        guard usable else { return .refused }
        let skipped = Int(min(Int64(bytes.count), skip))
        let rest = UnsafeRawBufferPointer(rebasing: bytes[skipped...])
        let verdict = rest.isEmpty ? .accepted : relay.receive(rest)
        // A paused transfer offers the same bytes again: skip them again then.
        if verdict == .accepted { state.withLock { $0.skip -= Int64(skipped) } }
        return verdict
    }

    func onResume(_ resume: @escaping @Sendable () -> Void) {
        relay.onResume(resume)
    }
}
