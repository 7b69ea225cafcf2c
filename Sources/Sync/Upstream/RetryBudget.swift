import Synchronization

/// When a failed fetch is tried again. The go command never retries a
/// download (golang/go#28194), so a transfer an upstream drops midway (a
/// reset, an HTTP/2 stream error, a 502/503/504) would fail the build:
/// goedge holds the body before answering and can try again unseen. Never
/// for an answer that says no (404, 410, 403) nor a checksum failure; a
/// few times at most, with jittered backoff, within a bound on the total
/// time; and out of a budget each upstream shares, so that a dead upstream
/// gets no more load than without retries.
public struct RetryPolicy: Sendable {
    /// Tries in all, the first included.
    public var attempts = 3
    /// The first wait; each next one doubles, give or take half.
    public var backoff: Duration = .milliseconds(200)
    /// The longest wait a `Retry-After` may ask for; a longer one is not waited for.
    public var longestWait: Duration = .seconds(5)
    /// Retries stop once this long has passed since the first try.
    public var totalTime: Duration = .seconds(30)

    public init() {}

    /// The wait before try number `attempt` (2 for the first retry), `Retry-After` seconds when given.
    func wait(before attempt: Int, retryAfter: Int?) -> Duration? {
        if let retryAfter {
            let asked = Duration.seconds(retryAfter)
            return asked <= longestWait ? asked : nil
        }
        let base = backoff * (1 << min(attempt - 2, 10))
        let jitter = Double.random(in: 0.5...1.5)
        return base * jitter
    }

    /// Failures worth another try: the transfer was cut or reset (not
    /// refused, unreachable, slow or stopped by goedge).
    static func isTransient(_ error: TransportError) -> Bool {
        error.kind == .truncated
    }

    /// Statuses worth another try: the upstream or something before it was overloaded or failing.
    static func isTransient(status: Int) -> Bool {
        status == 502 || status == 503 || status == 504
    }
}

/// Retries an upstream may still cost: a token bucket that each retry
/// drains by one and each answer refills by a tenth, so retries are at most
/// about a tenth of the requests over time, and a failing upstream's burst
/// of retries stops after ``capacity``.
public final class RetryBudget: Sendable {
    private let tokens: Mutex<Double>
    static let capacity = 10.0
    static let refill = 0.1

    public init() {
        tokens = Mutex(Self.capacity)
    }

    /// Takes one retry from the budget, if there is one.
    func take() -> Bool {
        tokens.withLock { tokens in
            guard tokens >= 1 else { return false }
            tokens -= 1
            return true
        }
    }

    /// An answer came: the budget grows back a little.
    func answered() {
        tokens.withLock { $0 = min(Self.capacity, $0 + Self.refill) }
    }

    var remaining: Double { tokens.withLock { $0 } }
}
