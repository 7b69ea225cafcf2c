import CoreMetrics
import Synchronization

/// How each upstream has been answering: for `/-/readyz`, `goedge status`
/// and the metrics (requests by upstream and status, and their latency).
public final class UpstreamHealth: Sendable {
    /// One upstream's recent record.
    public struct State: Codable, Sendable, Equatable {
        public var upstream: String
        public var requests = 0
        public var failures = 0
        /// Seconds since the last answer (any HTTP status) and the last failure to get one.
        public var lastAnswerSecondsAgo: Double?
        public var lastFailureSecondsAgo: Double?
        public var lastError: String?
        /// Whether the last attempt got an answer (or none was made yet).
        public var isHealthy: Bool
    }

    private struct Record {
        var requests = 0
        var failures = 0
        var lastAnswer: ContinuousClock.Instant?
        var lastFailure: ContinuousClock.Instant?
        var lastError: String?
        var lastAttemptFailed = false
    }

    private let order: [String]
    private let records: Mutex<[String: Record]>
    /// Told when an upstream starts failing (with why) and when it answers again.
    private let transitions = Mutex<(@Sendable (_ upstream: String, _ failing: Bool, _ error: String?) -> Void)?>(nil)
    private let durations: [String: CoreMetrics.Timer]

    public init(upstreams: [String]) {
        order = upstreams
        records = Mutex(Dictionary(upstreams.map { ($0, Record()) }, uniquingKeysWith: { first, _ in first }))
        durations = Dictionary(
            upstreams.map { ($0, CoreMetrics.Timer(label: "goedge_upstream_request_duration_seconds", dimensions: [("upstream", $0)])) },
            uniquingKeysWith: { first, _ in first })
    }

    /// Calls `body` once when an upstream starts failing, and once when it
    /// answers again: a failure burst is one warning in the log, not one a request.
    public func onTransition(_ body: @escaping @Sendable (_ upstream: String, _ failing: Bool, _ error: String?) -> Void) {
        transitions.withLock { $0 = body }
    }

    /// Records one attempt: `status` when an answer came, else the error.
    func record(upstream: String, status: Int?, error: String?, duration: Duration) {
        let changed: Bool = records.withLock { records in
            var record = records[upstream] ?? Record()
            let wasFailing = record.lastAttemptFailed
            defer { records[upstream] = record }
            record.requests += 1
            if status != nil {
                record.lastAnswer = .now
                record.lastAttemptFailed = false
            } else {
                record.failures += 1
                record.lastFailure = .now
                record.lastError = error
                record.lastAttemptFailed = true
            }
            return wasFailing != record.lastAttemptFailed
        }
        if changed, let report = transitions.withLock({ $0 }) { report(upstream, status == nil, error) }
        durations[upstream]?.recordNanoseconds(
            duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
        Counter(label: "goedge_upstream_requests_total", dimensions: [("upstream", upstream), ("status", status.map(String.init) ?? "error")])
            .increment()
    }

    /// Told of each retry (the agent logs it).
    private let retries = Mutex<(@Sendable (_ upstream: String, _ reason: String) -> Void)?>(nil)

    public func onRetry(_ body: @escaping @Sendable (_ upstream: String, _ reason: String) -> Void) {
        retries.withLock { $0 = body }
    }

    /// One fetch tried again after a transient failure.
    func recordRetry(upstream: String, reason: String) {
        Counter(label: "goedge_upstream_retries_total", dimensions: [("upstream", upstream)]).increment()
        retries.withLock { $0 }?(upstream, reason)
    }

    /// Every upstream's record, in list order.
    public var states: [State] {
        let now = ContinuousClock.now
        let seconds = { (instant: ContinuousClock.Instant?) -> Double? in
            instant.map { Double((now - $0).components.seconds) + Double((now - $0).components.attoseconds) / 1e18 }
        }
        return records.withLock { records in
            order.compactMap { upstream in
                guard let record = records[upstream] else { return nil }
                return State(
                    upstream: upstream, requests: record.requests, failures: record.failures,
                    lastAnswerSecondsAgo: seconds(record.lastAnswer), lastFailureSecondsAgo: seconds(record.lastFailure),
                    lastError: record.lastError, isHealthy: !record.lastAttemptFailed)
            }
        }
    }

    /// Ready as far as upstreams go: some upstream answered its last
    /// request, or none was needed yet.
    public var isReady: Bool {
        let states = self.states
        return states.isEmpty || states.allSatisfy { $0.requests == 0 } || states.contains { $0.requests > 0 && $0.isHealthy }
    }
}
