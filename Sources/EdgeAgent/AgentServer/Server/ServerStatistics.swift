import CoreMetrics
import Synchronization
import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin

/// Answers served, by how they were obtained: kept here for systemd's
/// STATUS line, and counted in the metrics by kind of request and result,
/// with the bytes sent from the cache and from upstreams.
final class ServerStatistics: Sendable {
    private let hit = Atomic<Int>(0)
    private let miss = Atomic<Int>(0)
    private let stale = Atomic<Int>(0)
    private let revalidated = Atomic<Int>(0)
    private let negative = Atomic<Int>(0)
    private let passThrough = Atomic<Int>(0)
    private let error = Atomic<Int>(0)
    private let denied = Atomic<Int>(0)
    private let agent = Atomic<Int>(0)

    /// `goedge_requests_total{kind, result}`, made once and kept in a flat
    /// table by position: the server counts every request.
    private let requests: [Counter]
    private let bytesFromCache = Counter(label: "goedge_served_bytes_total", dimensions: [("source", "cache")])
    private let bytesFromUpstream = Counter(label: "goedge_served_bytes_total", dimensions: [("source", "upstream")])

    init() {
        var table = [Counter?](repeating: nil, count: RequestKind.allCases.count * Self.statusCount)
        for kind in RequestKind.allCases {
            for status in ResponseOutcome.allCases {
                table[Self.position(kind, status)] = Counter(
                    label: "goedge_requests_total", dimensions: [("kind", kind.rawValue), ("result", status.rawValue)])
            }
        }
        requests = table.map { $0! }
    }

    private static let statusCount = ResponseOutcome.allCases.count

    private static func position(_ kind: RequestKind, _ status: ResponseOutcome) -> Int {
        kind.position * statusCount + status.position
    }

    func record(_ status: ResponseOutcome) {
        _ = withCounter(status) { $0.add(1, ordering: .relaxed) }
    }

    /// Counts a finished response: its kind and result, and the body bytes sent.
    func record(_ status: ResponseOutcome, kind: RequestKind, bytes: Int64) {
        record(status)
        requests[Self.position(kind, status)].increment()
        guard bytes > 0 else { return }
        switch status {
        case .hit, .stale, .revalidated, .negative: bytesFromCache.increment(by: bytes)
        case .miss, .passThrough: bytesFromUpstream.increment(by: bytes)
        case .error, .denied, .agent: break
        }
    }

    func count(_ status: ResponseOutcome) -> Int {
        withCounter(status) { $0.load(ordering: .relaxed) }
    }

    var total: Int { ResponseOutcome.allCases.reduce(0) { $0 + count($1) } }

    /// Share of answers that needed no body from an upstream.
    var hitRatio: Double? {
        let served = count(.hit) + count(.negative) + count(.revalidated) + count(.stale)
        let all = served + count(.miss) + count(.passThrough)
        return all == 0 ? nil : Double(served) / Double(all)
    }

    private func withCounter<Result>(_ status: ResponseOutcome, _ body: (borrowing Atomic<Int>) -> Result) -> Result {
        switch status {
        case .hit: body(hit)
        case .miss: body(miss)
        case .stale: body(stale)
        case .revalidated: body(revalidated)
        case .negative: body(negative)
        case .passThrough: body(passThrough)
        case .error: body(error)
        case .denied: body(denied)
        case .agent: body(agent)
        }
    }
}

extension RequestKind {
    /// Where the kind's counters are in the table.
    fileprivate var position: Int {
        switch self {
        case .list: 0
        case .info: 1
        case .mod: 2
        case .zip: 3
        case .latest: 4
        case .sumdb: 5
        case .agent: 6
        case .other: 7
        }
    }
}

extension ResponseOutcome {
    /// Where the status's counter is in a kind's row.
    fileprivate var position: Int {
        switch self {
        case .hit: 0
        case .miss: 1
        case .stale: 2
        case .revalidated: 3
        case .negative: 4
        case .passThrough: 5
        case .error: 6
        case .denied: 7
        case .agent: 8
        }
    }
}
