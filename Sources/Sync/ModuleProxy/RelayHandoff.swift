import Synchronization
import Upstream

/// Lets a fetch answer its client as soon as an unstorable body starts to
/// arrive: the transport publishes the relay from its thread, and the
/// fetch, waiting for either that or the transfer's end, answers at once
/// while the transfer goes on.
final class RelayHandoff: Sendable {
    private struct State {
        var relay: (ResponseHead, Relay)?
        var ended = false
        var waiter: CheckedContinuation<(ResponseHead, Relay)?, Never>?
    }
    private let state = Mutex(State())

    /// The transfer's body will be relayed (called where the sink is chosen).
    func publish(_ head: ResponseHead, _ relay: Relay) {
        let waiter = state.withLock { state in
            state.relay = (head, relay)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: (head, relay))
    }

    /// The transfer is over.
    func transferEnded() {
        let waiter = state.withLock { state in
            state.ended = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The relay, as soon as there is one; nil when the transfer ended without one.
    func relay() async -> (ResponseHead, Relay)? {
        await withCheckedContinuation { continuation in
            let ready: (ResponseHead, Relay)?? = state.withLock { state in
                if let relay = state.relay { return .some(relay) }
                if state.ended { return .some(nil) }
                state.waiter = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
