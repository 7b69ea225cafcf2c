import LRUCache
import Synchronization
import Upstream

/// Makes concurrent requests for the same file share one upstream fetch.
///
/// The first request for a key starts the fetch as background work (so a
/// client that goes away does not cancel it for the others); later requests
/// wait for it. Every waiter gets its own answer: for a stored file, its own
/// descriptor and pin. A waiter whose task is cancelled (its client's time
/// ran out) leaves at once; the fetch goes on for the others.
final class SingleFlight<Key: Hashable & Sendable>: Sendable {
    private let flights = Mutex<[Key: Flight]>([:])
    private let store: DiskCache
    private let background: BackgroundWork

    init(store: DiskCache, background: BackgroundWork) {
        self.store = store
        self.background = background
    }

    /// Number of fetches in flight.
    var count: Int { flights.withLock { $0.count } }

    /// Whether a fetch for `key` is in flight.
    func contains(_ key: Key) -> Bool { flights.withLock { $0[key] != nil } }

    /// The answer for `key`: from `recheck` if the cache now has it, else
    /// from the fetch in flight, else from a new fetch running `fetch`.
    /// `joined` tells whether this request waited on another's fetch.
    ///
    /// A client joining a fetch that runs in the background raises its
    /// ``Promotion`` and calls `promoted`, so the fetch stops waiting behind
    /// other background work.
    ///
    /// A relayed answer is shared only with requests that joined before its
    /// first bytes moved on; a later one starts over (a fetch of its own).
    func answer(
        for key: Key, priority: TransferRequest.Priority, recheck: () -> ProxyAnswer?,
        promoted: @Sendable () -> Void = {},
        fetch: @escaping @Sendable (Promotion) async -> ProxyAnswer
    ) async -> (answer: ProxyAnswer, joined: Bool) {
        while true {
            let (answer, joined) = await attempt(for: key, priority: priority, recheck: recheck, promoted: promoted, fetch: fetch)
            if let answer { return (answer, joined) }
        }
    }

    private func attempt(
        for key: Key, priority: TransferRequest.Priority, recheck: () -> ProxyAnswer?,
        promoted: @Sendable () -> Void, fetch: @escaping @Sendable (Promotion) async -> ProxyAnswer
    ) async -> (answer: ProxyAnswer?, joined: Bool) {
        let role: FlightRole = flights.withLock { flights in
            if let flight = flights[key] {
                if priority == .client && !flight.promotion.isRaised {
                    flight.promotion.raise()
                    promoted()
                }
                return .joined(flight)
            }
            // A fetch may have finished between the caller's first look and now.
            if let answer = recheck() { return .cached(answer) }
            let flight = Flight(copy: { [store] answer in
                var copy = answer
                switch answer.body {
                case .bytes:
                    return answer
                case .file(let hit):
                    guard let duplicate = store.duplicate(hit) else {
                        return .text(502, "goedge: the fetched file could not be reopened")
                    }
                    copy.body = .file(duplicate)
                case .relay(let reader):
                    guard let another = reader.another() else { return nil }
                    copy.body = .relay(another)
                }
                return copy
            })
            if priority == .client { flight.promotion.raise() }
            flights[key] = flight
            return .leader(flight)
        }
        switch role {
        case .cached(let answer):
            return (answer, false)
        case .joined(let flight):
            return (await flight.wait(asLeader: false), true)
        case .leader(let flight):
            // Outlives this request: the others waiting need it even if this client goes.
            background.submit { [self] in
                let answer = await fetch(flight.promotion)
                // Stored before the flight ends, so later requests find the file.
                flights.withLock { _ = $0.removeValue(forKey: key) }
                flight.finish(answer)
            }
            return (await flight.wait(asLeader: true), false)
        }
    }
}

/// What a request does about a key: take the cached answer, join the fetch
/// in flight, or lead a new one.
private enum FlightRole {
    case cached(ProxyAnswer)
    case joined(Flight)
    case leader(Flight)
}

/// One fetch in flight and the requests waiting for it. Each waiter takes
/// its own copy of the fetch's answer (its own descriptor and pin), nil
/// when the answer could not be shared with it (a relay that moved on, an
/// answer for the leader alone): it starts over. The fetch's own answer goes with the flight, once the
/// fetch and every waiter are done with it.
final class Flight: Sendable {
    private let ended = Settlement<ProxyAnswer?>()
    private let copy: @Sendable (ProxyAnswer) -> ProxyAnswer?
    /// Raised once a client waits for this fetch.
    let promotion = Promotion()

    /// What a waiter that leaves before the answer gets (nobody reads it).
    static let abandoned = ProxyAnswer.text(504, "goedge: stopped waiting for the upstream")

    init(copy: @escaping @Sendable (ProxyAnswer) -> ProxyAnswer?) {
        self.copy = copy
    }

    /// The answer, once the fetch ends; `abandoned` at once if the task is
    /// cancelled; nil for a waiter that joined when the answer is the
    /// leader's alone.
    func wait(asLeader: Bool) async -> ProxyAnswer? {
        guard let answer = await ended.value(orWhenCancelled: nil) else { return Self.abandoned }
        if answer.isForLeaderOnly && !asLeader { return nil }
        return copy(answer)
    }

    func finish(_ answer: ProxyAnswer) {
        ended.settle(answer)
    }
}
