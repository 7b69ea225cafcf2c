import CoreMetrics

/// `goedge_refused_total{reason}`: requests and connections refused by
/// access control and by the module policy, by reason.
enum RefusalMetrics {
    enum Reason: String, CaseIterable {
        /// A connection or module request from outside `client-hosts`.
        case clientHosts = "client-hosts"
        /// Missing or wrong credentials (`client-credentials-file`).
        case credentials
        /// A control API change without the privilege or the token.
        case control
        /// A module version the policy denies.
        case policy
    }

    private static let counters: [Reason: Counter] = Dictionary(
        uniqueKeysWithValues: Reason.allCases.map { ($0, Counter(label: "goedge_refused_total", dimensions: [("reason", $0.rawValue)])) })

    /// Made once the metrics system is up, so that every reason shows from the start.
    static func register() { _ = counters }

    static func count(_ reason: Reason) {
        counters[reason]?.increment()
    }
}
