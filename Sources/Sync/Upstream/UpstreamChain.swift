/// Walks the upstream list for one request with the go command's own rules
/// (cmd/go/internal/modfetch.TryProxies).
///
/// A 404 or 410 moves on to the next entry whatever the separator; any other
/// error moves on only after `|`. When the list runs out, the answer of the
/// last upstream tried stands, so that a client falls through (or not)
/// exactly as it would have with that upstream in its own GOPROXY.
public struct UpstreamChain: Sendable {
    public let list: UpstreamList
    public let engine: CurlEngine
    public let health: UpstreamHealth

    public init(list: UpstreamList, engine: CurlEngine) {
        self.list = list
        self.engine = engine
        health = UpstreamHealth(
            upstreams: list.entries.compactMap { entry in
                if case .proxy(let upstream, _) = entry { upstream.redacted } else { nil }
            })
    }

    public enum Outcome: Sendable {
        /// A complete response from `upstream`.
        case response(ResponseHead, any ResponseBodySink, upstream: UpstreamURL)
        /// The last upstream tried could not be reached or did not finish.
        case unreachable(TransportError, upstream: UpstreamURL)
        /// The list ended in `direct` or `off`: goedge has nowhere to fetch from.
        case exhausted(reason: String)
    }

    public struct Result: Sendable {
        public var outcome: Outcome
        /// Time spent on upstream transfers.
        public var duration: Duration
        /// Each upstream tried, with what it answered, for the log.
        public var attempts: [String]

        public init(outcome: Outcome, duration: Duration, attempts: [String] = []) {
            self.outcome = outcome
            self.duration = duration
            self.attempts = attempts
        }
    }

    public func fetch(
        path: String, headers: [(name: String, value: String)] = [], priority: TransferRequest.Priority,
        promotion: Promotion? = nil, chooseSink: @escaping @Sendable (ResponseHead) -> any ResponseBodySink
    ) async -> Result {
        var result = Result(outcome: .exhausted(reason: "no upstream"), duration: .zero, attempts: [])
        for (position, entry) in list.entries.enumerated() {
            let isLast = position == list.entries.count - 1
            switch entry {
            case .direct:
                result.outcome = .exhausted(
                    reason: "goedge does not fetch from version control (its upstream list ends in direct); "
                        + "list goedge before direct in GOPROXY to let the go command fetch it")
                return result
            case .off:
                result.outcome = .exhausted(reason: "module lookup disabled by goedge's upstream list (off)")
                return result
            case .proxy(let upstream, let fallBackOnAnyError):
                // A promoted background fetch asks as a client from then on.
                let lane: TransferRequest.Priority = promotion?.isRaised == true ? .client : priority
                let transfer = await engine.perform(
                    TransferRequest(
                        url: upstream.url(for: path), headers: headers, priority: lane, promotion: promotion,
                        chooseSink: chooseSink))
                result.duration += transfer.duration
                switch transfer.outcome {
                case .failed(let error):
                    health.record(upstream: upstream.redacted, status: nil, error: error.message, duration: transfer.duration)
                    result.attempts.append("\(upstream.redacted): \(error.message)")
                    result.outcome = .unreachable(error, upstream: upstream)
                    if !fallBackOnAnyError || isLast { return result }
                case .response(let head, let sink):
                    health.record(upstream: upstream.redacted, status: head.status, error: nil, duration: transfer.duration)
                    result.attempts.append("\(upstream.redacted): \(head.status)")
                    result.outcome = .response(head, sink, upstream: upstream)
                    let notFound = head.status == 404 || head.status == 410
                    let success = head.status == 200 || head.status == 304
                    if success || isLast || !(notFound || fallBackOnAnyError) { return result }
                }
            }
        }
        return result
    }
}
