import LRUCache
import ModuleProxy
import Upstream

/// Everything the server answers: the proxy's answers, and the agent's own
/// endpoints' (which may stream their body, as prefetch progress does).
///
/// A class, made once per response: it passes from the proxy through the
/// head writer, the access log and the statistics, and a struct of this
/// many strings was copied and destroyed at each step of every cache hit.
package final class AgentReply: Sendable {
    package enum Body: Sendable {
        /// A complete file, opened and pinned; sent with sendfile.
        case file(CacheHit)
        case bytes([UInt8])
        /// Produced as it goes, sent chunked, written as the client takes it.
        case stream(ReplyStream)
        /// An upstream's body as it arrives (not stored), written as the client takes it.
        case relay(RelayReader)
    }

    let status: Int
    let reason: String
    let contentType: String
    let body: Body
    let outcome: ResponseOutcome
    let warning: String?
    /// Headers some answers need (`Allow` on a 405, `WWW-Authenticate` on a 401).
    let extraHeaders: [(name: String, value: String)]
    /// Time spent on upstream transfers.
    let upstreamDuration: Duration?

    package init(
        status: Int, reason: String? = nil, contentType: String, body: Body, outcome: ResponseOutcome, warning: String? = nil,
        extraHeaders: [(name: String, value: String)] = [], upstreamDuration: Duration? = nil
    ) {
        self.status = status
        self.reason = reason ?? ResponseHead.standardReason(for: status)
        self.contentType = contentType
        self.body = body
        self.outcome = outcome
        self.warning = warning
        self.extraHeaders = extraHeaders
        self.upstreamDuration = upstreamDuration
    }

    /// The proxy's answer, as it goes out.
    init(_ answer: consuming ProxyAnswer) {
        status = answer.status
        reason = answer.reason
        contentType = answer.contentType
        body =
            switch answer.body {
            case .file(let hit): .file(hit)
            case .bytes(let bytes): .bytes(bytes)
            case .relay(let reader): .relay(reader)
            }
        outcome = ResponseOutcome(answer.cacheStatus)
        warning = answer.warning
        extraHeaders = []
        upstreamDuration = answer.upstreamDuration
    }

    /// A small body of the agent's own.
    static func body(_ bytes: [UInt8], contentType: String, status: Int = 200) -> AgentReply {
        AgentReply(status: status, contentType: contentType, body: .bytes(bytes), outcome: .agent)
    }

    /// A body the agent produces as it goes (progress lines).
    static func stream(_ chunks: AsyncStream<[UInt8]>, contentType: String) -> AgentReply {
        AgentReply(status: 200, contentType: contentType, body: .stream(ReplyStream(chunks)), outcome: .agent)
    }

    /// One line of text, prefixed `goedge: ` as the go command shows it.
    static func text(
        _ status: Int, _ message: String, outcome: ResponseOutcome = .agent, extraHeaders: [(name: String, value: String)] = []
    ) -> AgentReply {
        AgentReply(
            status: status, contentType: "text/plain; charset=utf-8", body: .bytes(Array("goedge: \(message)\n".utf8)),
            outcome: outcome, extraHeaders: extraHeaders)
    }

    /// A 405 with the `Allow` header.
    static func methodNotAllowed(allow: String) -> AgentReply {
        text(405, "this endpoint takes \(allow)", extraHeaders: [("Allow", allow)])
    }

    /// The body's length; nil for a stream.
    var contentLength: Int64? {
        switch body {
        case .file(let hit): hit.size
        case .bytes(let bytes): Int64(bytes.count)
        case .stream: nil
        case .relay(let reader): reader.length
        }
    }
}

/// The agent's own streamed body, boxed: `AsyncStream` is a resilient
/// type, and an enum with one inline is copied through the runtime's
/// generic witnesses on every reply, streamed or not.
package final class ReplyStream: Sendable {
    let chunks: AsyncStream<[UInt8]>
    init(_ chunks: AsyncStream<[UInt8]>) { self.chunks = chunks }
}

/// Where a response came from, for the `X-Cache` header, the log and the
/// metrics: the proxy's outcome, or one of the agent's own endpoints.
package enum ResponseOutcome: String, CaseIterable, Sendable {
    case hit, miss, stale, revalidated, negative
    case passThrough = "pass"
    case error, denied, agent

    init(_ status: ProxyAnswer.CacheStatus) {
        switch status {
        case .hit: self = .hit
        case .miss: self = .miss
        case .stale: self = .stale
        case .revalidated: self = .revalidated
        case .negative: self = .negative
        case .passThrough: self = .passThrough
        case .error: self = .error
        case .denied: self = .denied
        }
    }
}
