import LRUCache
import Synchronization

/// Makes concurrent requests for the same file share one upstream fetch.
///
/// The first request for a key starts the fetch as a task of its own (so a
/// client that goes away does not cancel it for the others); later requests
/// wait for it. Every waiter gets its own answer: for a stored file, its own
/// descriptor and pin.
final class SingleFlight: Sendable {
    private let flights = Mutex<[CacheKey: Flight]>([:])
    private let store: DiskCache

    init(store: DiskCache) {
        self.store = store
    }

    /// Number of fetches in flight.
    var count: Int { flights.withLock { $0.count } }

    /// Whether a fetch for `key` is in flight.
    func contains(_ key: CacheKey) -> Bool { flights.withLock { $0[key] != nil } }

    /// The answer for `key`: from `recheck` if the cache now has it, else
    /// from the fetch in flight, else from a new fetch running `fetch`.
    /// `joined` tells whether this request waited on another's fetch.
    ///
    /// A client joining a fetch that runs in the background raises its
    /// ``Promotion`` and calls `promoted`, so the fetch stops waiting behind
    /// other background work.
    func answer(
        for key: CacheKey, priority: TransferRequest.Priority, recheck: () -> ProxyAnswer?,
        promoted: @Sendable () -> Void = {},
        fetch: @escaping @Sendable (Promotion) async -> ProxyAnswer
    ) async -> (answer: ProxyAnswer, joined: Bool) {
        enum Role { case cached(ProxyAnswer), joined(Flight), leader(Flight) }
        let role: Role = flights.withLock { flights in
            if let flight = flights[key] {
                flight.register()
                if priority == .client && !flight.promotion.isRaised {
                    flight.promotion.raise()
                    promoted()
                }
                return .joined(flight)
            }
            // A fetch may have finished between the caller's first look and now.
            if let answer = recheck() { return .cached(answer) }
            let flight = Flight(copy: { [store] answer in
                guard case .file(let hit) = answer.body else { return answer }
                guard let duplicate = store.duplicate(hit) else {
                    return .text(502, "goedge: the fetched file could not be reopened")
                }
                var copy = answer
                copy.body = .file(duplicate)
                return copy
            })
            flight.register()
            if priority == .client { flight.promotion.raise() }
            flights[key] = flight
            return .leader(flight)
        }
        switch role {
        case .cached(let answer):
            return (answer, false)
        case .joined(let flight):
            return (await flight.wait(), true)
        case .leader(let flight):
            Task {
                let answer = await fetch(flight.promotion)
                // Stored before the flight ends, so later requests find the file.
                flights.withLock { _ = $0.removeValue(forKey: key) }
                flight.finish(answer)
            }
            return (await flight.wait(), false)
        }
    }
}

/// One fetch in flight and the requests waiting for it.
///
/// Requests register (under the single-flight lock, so none is missed)
/// before they wait; each gets its own copy of the answer, whether it
/// waits before or after the fetch ends, and the last one to collect
/// releases the original.
final class Flight: Sendable {
    private struct State {
        var registered = 0
        var collected = 0
        var answer: ProxyAnswer?
        var waiters: [CheckedContinuation<ProxyAnswer, Never>] = []
    }
    private let state = Mutex(State())
    private let copy: @Sendable (ProxyAnswer) -> ProxyAnswer
    /// Raised once a client waits for this fetch.
    let promotion = Promotion()

    init(copy: @escaping @Sendable (ProxyAnswer) -> ProxyAnswer) {
        self.copy = copy
    }

    func register() {
        state.withLock { $0.registered += 1 }
    }

    func wait() async -> ProxyAnswer {
        await withCheckedContinuation { continuation in
            let ready: ProxyAnswer? = state.withLock { state in
                guard let answer = state.answer else {
                    state.waiters.append(continuation)
                    return nil
                }
                return collect(answer, &state)
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    func finish(_ answer: ProxyAnswer) {
        let handed: [(CheckedContinuation<ProxyAnswer, Never>, ProxyAnswer)] = state.withLock { state in
            state.answer = answer
            defer { state.waiters.removeAll() }
            return state.waiters.map { ($0, collect(answer, &state)) }
        }
        for (waiter, answer) in handed { waiter.resume(returning: answer) }
    }

    private func collect(_ answer: ProxyAnswer, _ state: inout State) -> ProxyAnswer {
        let mine = copy(answer)
        state.collected += 1
        if state.collected == state.registered { answer.release() }
        return mine
    }
}
