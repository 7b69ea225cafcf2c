import Synchronization
import Sync

/// Answers served, by how they were obtained.
final class ServerStatistics: Sendable {
    private let hit = Atomic<Int>(0)
    private let miss = Atomic<Int>(0)
    private let stale = Atomic<Int>(0)
    private let revalidated = Atomic<Int>(0)
    private let negative = Atomic<Int>(0)
    private let passThrough = Atomic<Int>(0)
    private let error = Atomic<Int>(0)
    private let agent = Atomic<Int>(0)

    func record(_ status: ProxyAnswer.CacheStatus) {
        _ = withCounter(status) { $0.add(1, ordering: .relaxed) }
    }

    func count(_ status: ProxyAnswer.CacheStatus) -> Int {
        withCounter(status) { $0.load(ordering: .relaxed) }
    }

    var total: Int { ProxyAnswer.CacheStatus.allCases.reduce(0) { $0 + count($1) } }

    /// Share of answers that needed no body from an upstream.
    var hitRatio: Double? {
        let served = count(.hit) + count(.negative) + count(.revalidated) + count(.stale)
        let all = served + count(.miss) + count(.passThrough)
        return all == 0 ? nil : Double(served) / Double(all)
    }

    private func withCounter<Result>(_ status: ProxyAnswer.CacheStatus, _ body: (borrowing Atomic<Int>) -> Result) -> Result {
        switch status {
        case .hit: body(hit)
        case .miss: body(miss)
        case .stale: body(stale)
        case .revalidated: body(revalidated)
        case .negative: body(negative)
        case .passThrough: body(passThrough)
        case .error: body(error)
        case .agent: body(agent)
        }
    }
}
