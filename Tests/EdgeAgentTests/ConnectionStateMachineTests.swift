import Testing

@testable import AgentServer

/// The connection's states and moves, driven directly: no channel, no
/// sockets, no time.
@Suite struct ConnectionStateMachineTests {
    typealias Machine = ConnectionStateMachine

    @Test func aKeptAliveRequestReturnsToIdleAndLooksAtWhatIsWaiting() {
        var machine = Machine()
        let result1 = machine.readRequested()
        #expect(result1)
        let result2 = machine.requestStarted(bodyLength: 0, keepAlive: true, bodyAccepted: false)
        #expect(result2 == .none)
        #expect(machine.state == .responding)
        #expect(!machine.responseCloses)
        let result3 = machine.responseEnded()
        #expect(result3 == .processBuffered)
        #expect(machine.state == .idle)
    }

    /// While a response is out, nothing more is read: the read is kept for later.
    @Test func noReadsWhileResponding() {
        var machine = Machine()
        _ = machine.requestStarted(bodyLength: 0, keepAlive: true, bodyAccepted: false)
        let heldBefore = machine.takeHeldRead()
        #expect(!heldBefore)
        let result4 = machine.readRequested()
        #expect(!result4)
        let result5 = machine.responseEnded()
        #expect(result5 == .processBuffered)
        // The read held back while answering is made once, then reads flow again.
        let heldRead = machine.takeHeldRead()
        #expect(heldRead)
        let heldAgain = machine.takeHeldRead()
        #expect(!heldAgain)
        let result6 = machine.readRequested()
        #expect(result6)
    }

    @Test func connectionCloseEndsTheConnectionAfterTheResponse() {
        var machine = Machine()
        _ = machine.requestStarted(bodyLength: 0, keepAlive: false, bodyAccepted: false)
        #expect(machine.responseCloses)
        let result7 = machine.responseEnded()
        #expect(result7 == .close)
        #expect(machine.state == .closed)
        let result8 = machine.readRequested()
        #expect(!result8)
    }

    @Test func anAcceptedBodyIsReadWithBackpressureThenAnswered() {
        var machine = Machine()
        _ = machine.requestStarted(bodyLength: 10, keepAlive: true, bodyAccepted: true)
        #expect(machine.state == .receivingBody(remaining: 10))
        let result9 = machine.readRequested()
        #expect(result9)
        // The endpoint has enough for now: reads wait, and resume when it wants more.
        let result10 = machine.bodyDemandChanged(paused: true)
        #expect(result10 == .none)
        let result11 = machine.readRequested()
        #expect(!result11)
        let result12 = machine.bodyDemandChanged(paused: false)
        #expect(result12 == .read)
        let first = machine.bodyReceived(6)
        #expect(first.taken == 6 && !first.ended)
        // Bytes beyond the body belong to the next request.
        let rest = machine.bodyReceived(100)
        #expect(rest.taken == 4 && rest.ended)
        #expect(machine.state == .responding)
        let result13 = machine.responseEnded()
        #expect(result13 == .processBuffered)
    }

    /// A body the endpoint does not take is never read: the connection ends after the answer.
    @Test func aRefusedBodyClosesTheConnectionAfterTheAnswer() {
        var machine = Machine()
        _ = machine.requestStarted(bodyLength: 1 << 26, keepAlive: true, bodyAccepted: false)
        #expect(machine.state == .responding)
        #expect(machine.responseCloses)
        let result14 = machine.responseEnded()
        #expect(result14 == .close)
    }

    @Test func aHeadThatDoesNotArriveInTimeIsRefused() {
        var partial = Machine()
        let result15 = partial.headDeadlinePassed(partialHead: true)
        #expect(result15 == .refuse(status: 408, reason: "the request head did not arrive in time"))
        var silent = Machine()
        let result16 = silent.headDeadlinePassed(partialHead: false)
        #expect(result16 == .close)
        // Once a request is being answered, the head's deadline no longer matters.
        var busy = Machine()
        _ = busy.requestStarted(bodyLength: 0, keepAlive: true, bodyAccepted: false)
        let result17 = busy.headDeadlinePassed(partialHead: false)
        #expect(result17 == .none)
    }

    @Test func aHalfClosedClientGetsItsAnswerThenTheConnectionCloses() {
        var machine = Machine()
        _ = machine.requestStarted(bodyLength: 0, keepAlive: true, bodyAccepted: false)
        let result18 = machine.inputEnded(partialHead: false)
        #expect(result18 == .none)
        let result19 = machine.responseEnded()
        #expect(result19 == .close)
        var idle = Machine()
        let result20 = idle.inputEnded(partialHead: true)
        #expect(result20 == .refuse(status: 400, reason: "the connection ended inside a request head"))
    }

    @Test func quiescingClosesIdleConnectionsAndBusyOnesAfterTheirResponse() {
        var idle = Machine()
        _ = idle.requestStarted(bodyLength: 0, keepAlive: true, bodyAccepted: false)
        _ = idle.responseEnded()
        let result21 = idle.quiesce(partialHead: false)
        #expect(result21 == .close)
        var busy = Machine()
        _ = busy.requestStarted(bodyLength: 0, keepAlive: true, bodyAccepted: false)
        let result22 = busy.quiesce(partialHead: false)
        #expect(result22 == .none)
        #expect(busy.responseCloses)
        let result23 = busy.responseEnded()
        #expect(result23 == .close)
    }

    /// Events that cannot happen in a state close the connection rather than half-happen.
    @Test func illegalMovesClose() {
        var machine = Machine()
        _ = machine.requestStarted(bodyLength: 0, keepAlive: true, bodyAccepted: false)
        let result24 = machine.requestStarted(bodyLength: 0, keepAlive: true, bodyAccepted: false)
        #expect(result24 == .close)
        #expect(machine.state == .closed)
        var idle = Machine()
        let result25 = idle.responseEnded()
        #expect(result25 == .close)
    }

    /// While the channel cannot write, nothing is read: a client that does
    /// not take its answers gets nothing more read from it.
    @Test func noReadsWhileTheChannelCannotWrite() {
        var machine = Machine()
        #expect(machine.writabilityChanged(writable: false) == .none)
        let read = machine.readRequested()
        #expect(!read)
        #expect(machine.writabilityChanged(writable: true) == .processBuffered)
        let held = machine.takeHeldRead()
        #expect(held)
    }

    /// A kept-alive response ends once its bytes have left (the channel can
    /// write again), not when it was handed over.
    @Test func aKeptAliveResponseEndsWhenItsBytesHaveLeft() {
        var machine = Machine()
        _ = machine.requestStarted(bodyLength: 0, keepAlive: true, bodyAccepted: false)
        #expect(machine.writabilityChanged(writable: false) == .none)
        #expect(machine.responseEnded() == .none)
        #expect(machine.state == .responding)
        let read = machine.readRequested()
        #expect(!read)
        #expect(machine.writabilityChanged(writable: true) == .processBuffered)
        #expect(machine.state == .idle)
    }

    /// A client that shut its side while its answer drained: closed once it has.
    @Test func aDrainingResponseWhoseClientLeftCloses() {
        var machine = Machine()
        _ = machine.requestStarted(bodyLength: 0, keepAlive: true, bodyAccepted: false)
        _ = machine.writabilityChanged(writable: false)
        #expect(machine.responseEnded() == .none)
        #expect(machine.inputEnded(partialHead: false) == .none)
        #expect(machine.writabilityChanged(writable: true) == .close)
        #expect(machine.state == .closed)
    }
}
