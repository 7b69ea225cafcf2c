/// Whether to ask the shared store now: after a few failures in a row it
/// stops being asked (one probe after a pause, not one timeout per
/// request), and is asked again once a probe succeeds. A plain value, moved
/// by events and the time given to it.
public struct CircuitBreaker: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        /// Asked.
        case closed
        /// Not asked until `until` (nanoseconds on the caller's clock).
        case open(until: Int64)
        /// One probe is out: others are not asked until it settles.
        case probing
    }

    public private(set) var state: State = .closed
    /// Failures in a row while closed.
    private var failures = 0
    /// How long the next opening lasts.
    private var pause: Int64

    static let failuresToOpen = 3
    static let firstPause: Int64 = 10 * 1_000_000_000
    static let longestPause: Int64 = 300 * 1_000_000_000

    public init() {
        pause = Self.firstPause
    }

    /// Whether a request may go to the store now (a probe, when the pause is over).
    public mutating func allows(now: Int64) -> Bool {
        switch state {
        case .closed: return true
        case .probing: return false
        case .open(let until):
            guard now >= until else { return false }
            state = .probing
            return true
        }
    }

    /// The store answered (any answer: a missing object is an answer). Returns whether it was failing before.
    @discardableResult
    public mutating func succeeded() -> Bool {
        let wasFailing = state != .closed
        state = .closed
        failures = 0
        pause = Self.firstPause
        return wasFailing
    }

    /// It did not (unreachable, timed out, 5xx, refused our credentials). Returns whether it starts failing now.
    @discardableResult
    public mutating func failed(now: Int64) -> Bool {
        switch state {
        case .closed:
            failures += 1
            guard failures >= Self.failuresToOpen else { return false }
            state = .open(until: now &+ pause)
            return true
        case .probing, .open:
            pause = min(Self.longestPause, pause * 2)
            state = .open(until: now &+ pause)
            return false
        }
    }

    public var isFailing: Bool { state != .closed }
}
