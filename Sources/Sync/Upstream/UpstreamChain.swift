/// Walks the upstream list for one request with the go command's own rules
/// (cmd/go/internal/modfetch.TryProxies), each upstream a ``UpstreamSource``.
///
/// A 404 or 410 moves on to the next entry whatever the separator; any other
/// error moves on only after `|`. When the list runs out, the answer of the
/// last upstream tried stands, so that a client falls through (or not)
/// exactly as it would have with that upstream in its own GOPROXY.
public struct UpstreamChain: FileSource {
    public let list: UpstreamList
    public let engine: CurlEngine
    public let health: UpstreamHealth
    private let sources: [UpstreamSource?]

    public init(list: UpstreamList, engine: CurlEngine, policy: RetryPolicy = RetryPolicy()) {
        self.list = list
        self.engine = engine
        let health = UpstreamHealth(
            upstreams: list.entries.compactMap { entry in
                if case .proxy(let upstream, _) = entry { upstream.redacted } else { nil }
            })
        self.health = health
        sources = list.entries.map { entry in
            guard case .proxy(let upstream, _) = entry else { return nil }
            return UpstreamSource(url: upstream, engine: engine, health: health, policy: policy)
        }
    }

    public func fetch(_ request: SourceRequest) async -> SourceAnswer {
        var answer = SourceAnswer(outcome: .exhausted(reason: "no upstream"), from: "goedge")
        var attempts: [String] = []
        var duration = Duration.zero
        for (position, entry) in list.entries.enumerated() {
            let isLast = position == list.entries.count - 1
            switch entry {
            case .direct:
                answer.outcome = .exhausted(
                    reason: "goedge does not fetch from version control (its upstream list ends in direct); "
                        + "list goedge before direct in GOPROXY to let the go command fetch it")
                return Self.finished(answer, attempts, duration)
            case .off:
                answer.outcome = .exhausted(reason: "module lookup disabled by goedge's upstream list (off)")
                return Self.finished(answer, attempts, duration)
            case .proxy(_, let fallBackOnAnyError):
                answer = await sources[position]!.fetch(request)
                attempts += answer.attempts
                duration += answer.duration
                switch answer.outcome {
                case .failed:
                    if !fallBackOnAnyError || isLast { return Self.finished(answer, attempts, duration) }
                case .found:
                    return Self.finished(answer, attempts, duration)
                case .answered(let head, _):
                    let notFound = head.status == 404 || head.status == 410
                    if head.status == 304 || isLast || !(notFound || fallBackOnAnyError) {
                        return Self.finished(answer, attempts, duration)
                    }
                case .exhausted:
                    return Self.finished(answer, attempts, duration)
                }
            }
        }
        return Self.finished(answer, attempts, duration)
    }

    private static func finished(_ answer: SourceAnswer, _ attempts: [String], _ duration: Duration) -> SourceAnswer {
        var answer = answer
        answer.attempts = attempts
        answer.duration = duration
        return answer
    }

    public func promoted() { engine.wakeUp() }
}
