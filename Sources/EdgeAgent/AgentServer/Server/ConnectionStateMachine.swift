/// What one HTTP/1.1 connection is doing, as a plain value: every event is
/// a method that moves the state and returns what the channel handler must
/// do, and an event that cannot happen in the current state closes the
/// connection rather than being half-handled. Modelled on SwiftNIO's
/// `HTTPServerPipelineHandler` and its upgrader state machine: nothing here
/// touches a channel, so it is tested on its own.
///
/// One request at a time. While a request's body arrives or its response
/// is out, the connection reads nothing more (reads asked for are recorded
/// and made afterwards): a pipelining client cannot queue work, and answers
/// go out in the order of requests by construction. Nor does it read while
/// the channel cannot write (its outbound buffer is above the high
/// watermark): a response ends only once its bytes have left that far, so a
/// client that sends requests and never reads the answers gets nothing
/// more read from it, and what one connection holds stays bounded.
struct ConnectionStateMachine: Sendable {
    enum State: Equatable, Sendable {
        /// Waiting for a request head (some of it may have arrived).
        case idle
        /// An admitted request's body is arriving: `remaining` bytes to go.
        case receivingBody(remaining: Int)
        /// A request is being answered.
        case responding
        /// Closed, or closing: nothing more is done.
        case closed
    }

    enum Action: Equatable, Sendable {
        case none
        /// Ask the channel for more bytes (a read was wanted and may now be made).
        case read
        /// Look at bytes already received for the next request, then read if wanted.
        case processBuffered
        /// Close the connection.
        case close
        /// Answer `status` with `reason`, then close.
        case refuse(status: Int, reason: String)
    }

    private(set) var state: State = .idle
    /// The current response ends the connection.
    private var closeAfterResponse = false
    /// A read was asked for while reading was held back.
    private var readWanted = false
    /// The body's consumer has enough for now.
    private var bodyPaused = false
    /// A graceful shutdown began: finish what is in progress, then close.
    private var quiescing = false
    /// The client's side of the connection is shut (half-close).
    private var inputClosed = false
    /// Any request arrived on this connection yet.
    private(set) var servedAny = false
    /// The channel takes more bytes (its outbound buffer is below the high watermark).
    private var writable = true
    /// A response was written whole but its bytes have not left yet.
    private var draining = false

    // MARK: Reads

    /// The channel wants to read: whether to pass that on now.
    mutating func readRequested() -> Bool {
        switch state {
        case .idle where writable:
            return true
        case .idle:
            readWanted = true
            return false
        case .receivingBody where !bodyPaused:
            return true
        case .receivingBody, .responding:
            readWanted = true
            return false
        case .closed:
            return false
        }
    }

    /// The client shut its side: no more requests will come.
    mutating func inputEnded(partialHead: Bool) -> Action {
        inputClosed = true
        switch state {
        case .idle:
            state = .closed
            return partialHead ? .refuse(status: 400, reason: "the connection ended inside a request head") : .close
        case .receivingBody:
            state = .closed
            return .close
        case .responding:
            closeAfterResponse = true
            return .none
        case .closed:
            return .none
        }
    }

    // MARK: Requests

    /// A complete request head arrived and was routed: `bodyAccepted` says
    /// whether its endpoint takes the body (one refused is never read, so
    /// the connection closes after the answer).
    mutating func requestStarted(bodyLength: Int, keepAlive: Bool, bodyAccepted: Bool) -> Action {
        guard state == .idle else { return fail() }
        servedAny = true
        closeAfterResponse = !keepAlive || quiescing || inputClosed || (bodyLength > 0 && !bodyAccepted)
        if bodyLength > 0 && bodyAccepted {
            state = .receivingBody(remaining: bodyLength)
            bodyPaused = false
        } else {
            state = .responding
        }
        return .none
    }

    /// Body bytes arrived: how many belong to the body; the rest is the
    /// next request's, kept for later.
    mutating func bodyReceived(_ count: Int) -> (taken: Int, ended: Bool) {
        guard case .receivingBody(let remaining) = state else { return (0, false) }
        let taken = min(count, remaining)
        if taken == remaining {
            state = .responding
            return (taken, true)
        }
        state = .receivingBody(remaining: remaining - taken)
        return (taken, false)
    }

    /// The body's consumer wants no more for now (`paused`) or more again.
    mutating func bodyDemandChanged(paused: Bool) -> Action {
        bodyPaused = paused
        guard !paused, case .receivingBody = state, readWanted else { return .none }
        readWanted = false
        return .read
    }

    /// The response was written whole. A connection that stays open goes
    /// on once the channel can write again; one that closes was waited for
    /// by the handler until its bytes left.
    mutating func responseEnded() -> Action {
        guard state == .responding, !draining else { return state == .closed ? .none : fail() }
        if closeAfterResponse || quiescing {
            state = .closed
            return .close
        }
        guard writable else {
            draining = true
            return .none
        }
        state = .idle
        return .processBuffered
    }

    /// The channel's outbound buffer went above (`false`) or below its watermark.
    mutating func writabilityChanged(writable: Bool) -> Action {
        self.writable = writable
        guard writable else { return .none }
        if draining {
            draining = false
            if closeAfterResponse || quiescing {
                state = .closed
                return .close
            }
            state = .idle
            return .processBuffered
        }
        // Requests waited in the buffer, or a read was held back, for the client to take its answers.
        return state == .idle ? .processBuffered : .none
    }

    /// Whether a read was held back and should be made now (once).
    mutating func takeHeldRead() -> Bool {
        defer { readWanted = false }
        return readWanted
    }

    /// A response was refused or could not be written: the connection cannot go on.
    mutating func responseFailed() -> Action {
        state == .closed ? .none : fail()
    }

    /// Whether the current response must say `Connection: close`.
    var responseCloses: Bool { closeAfterResponse || quiescing }

    // MARK: Time and shutdown

    /// The request head did not arrive in time.
    mutating func headDeadlinePassed(partialHead: Bool) -> Action {
        guard state == .idle else { return .none }
        state = .closed
        return partialHead ? .refuse(status: 408, reason: "the request head did not arrive in time") : .close
    }

    /// The request body stopped arriving for too long.
    mutating func bodyStalled() -> Action {
        guard case .receivingBody = state else { return .none }
        state = .closed
        return .close
    }

    /// Shutting down: an idle connection closes now, a busy one after its response.
    mutating func quiesce(partialHead: Bool) -> Action {
        quiescing = true
        guard state == .idle, !partialHead else { return .none }
        state = .closed
        return .close
    }

    mutating func closed() {
        state = .closed
    }

    private mutating func fail() -> Action {
        state = .closed
        return .close
    }
}
