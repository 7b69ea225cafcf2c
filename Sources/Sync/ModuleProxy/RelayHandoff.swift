import Synchronization
import Upstream

/// Lets a fetch answer its client as soon as an unstorable body starts to
/// arrive: the transport publishes the relay from its thread, and the
/// fetch, waiting for either that or the transfer's end, answers at once
/// while the transfer goes on.
final class RelayHandoff: Sendable {
    /// What the fetch waits for: a relay to answer with at once, or the transfer's end.
    enum Outcome: Sendable {
        case relay(ResponseHead, Relay)
        case ended(UpstreamChain.Result)
    }

    private struct State {
        var outcome: Outcome?
        var waiter: CheckedContinuation<Outcome, Never>?
    }
    private let state = Mutex(State())

    /// The transfer's body will be relayed (called where the sink is chosen).
    func publish(_ head: ResponseHead, _ relay: Relay) {
        settle(.relay(head, relay))
    }

    /// The transfer is over (after a relay, nobody waits for this any more).
    func transferEnded(_ result: UpstreamChain.Result) {
        settle(.ended(result))
    }

    private func settle(_ outcome: Outcome) {
        let waiter: CheckedContinuation<Outcome, Never>? = state.withLock { state in
            guard state.outcome == nil else { return nil }
            state.outcome = outcome
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: outcome)
    }

    /// The relay as soon as there is one, else the transfer's result.
    func outcome() async -> Outcome {
        await withCheckedContinuation { continuation in
            let ready: Outcome? = state.withLock { state in
                if let outcome = state.outcome { return outcome }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
