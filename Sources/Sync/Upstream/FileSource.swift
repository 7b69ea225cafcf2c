/// A tier the proxy fetches what it lacks from, the way Go's modfetch has
/// its `Repo`: the shared store of a fleet, the upstream list. Each answers
/// a request with a typed outcome and, for a file found, a body the caller
/// reads with backpressure; the caller alone decides what to keep, relay or
/// refuse. Sources never throw: failures are an outcome.
public protocol FileSource: Sendable {
    func fetch(_ request: SourceRequest) async -> SourceAnswer
    /// A background fetch that a client now waits for was promoted: look at the queues again.
    func promoted()
}

/// One file of the protocol, as a source is asked for it.
public struct SourceRequest: Sendable {
    /// The protocol path without its leading slash (`example.com/m/@v/v1.0.0.zip`).
    public var path: String
    /// Conditional request headers (If-None-Match, If-Modified-Since).
    public var conditions: [(name: String, value: String)]
    public var priority: TransferRequest.Priority
    public var promotion: Promotion?

    public init(
        path: String, conditions: [(name: String, value: String)] = [], priority: TransferRequest.Priority = .client,
        promotion: Promotion? = nil
    ) {
        self.path = path
        self.conditions = conditions
        self.priority = priority
        self.promotion = promotion
    }
}

/// What a source answered.
public enum SourceOutcome: Sendable {
    /// 200: the head, and the body as it arrives.
    case found(ResponseHead, SourceBody)
    /// Any other status (304, 404, 410, an error), with its body (at most ``SourceAnswer/errorBodyLimit``).
    case answered(ResponseHead, [UInt8])
    /// No answer: unreachable, or the transfer failed before a head.
    case failed(TransportError)
    /// Nowhere to ask: the upstream list ends in `direct` or `off`.
    case exhausted(reason: String)
}

/// A source's outcome, who gave it, and what it cost.
public struct SourceAnswer: Sendable {
    public var outcome: SourceOutcome
    /// Who answered (an upstream's redacted URL, `shared store`), for messages.
    public var from: String
    /// Time spent asking.
    public var duration: Duration
    /// Each attempt, with what it gave, for the log.
    public var attempts: [String]

    /// The longest error body kept (the go command shows the first lines).
    public static let errorBodyLimit = 64 << 10

    public init(outcome: SourceOutcome, from: String, duration: Duration = .zero, attempts: [String] = []) {
        self.outcome = outcome
        self.from = from
        self.duration = duration
        self.attempts = attempts
    }
}

/// A body arriving from a source: read by one reader at its own pace (the
/// transfer waits when the reader lags a window behind), with more readers
/// possible for as long as its first bytes are at hand (clients joining a
/// relayed body). The source may resume a cut transfer behind it: the
/// reader sees one body, whole or failed.
public final class SourceBody: Sendable {
    let relay: Relay
    /// The first reader, made before any byte arrived.
    public let reader: RelayReader

    public init(relay: Relay) {
        self.relay = relay
        reader = relay.makeReader()!
    }

    /// The body's length, when the head gave it.
    public var length: Int64? { relay.length }

    /// The next bytes; nil at the end; throws when the body failed midway.
    public func next() async throws(RelayFailure) -> [UInt8]? {
        try await reader.next()
    }

    /// Nobody reads on: the transfer stops.
    public func close() {
        reader.close()
    }

    /// The whole body, or nil when it is longer than `limit` or failed (the transfer is stopped then).
    public func collect(limit: Int) async -> [UInt8]? {
        var bytes: [UInt8] = []
        do {
            while let chunk = try await next() {
                guard bytes.count + chunk.count <= limit else {
                    close()
                    return nil
                }
                bytes += chunk
            }
        } catch {
            return nil
        }
        return bytes
    }
}
