#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// Carrying out the state machine's actions, the connection's timers, and
/// how it closes.
extension HTTPConnectionHandler {
    func perform(_ action: ConnectionStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .read:
            context.read()
        case .processBuffered:
            process(context: context)
        case .close:
            cancelTimers()
            closeLingering(context: context)
        case .refuse(let status, let reason):
            cancelTimers()
            let head = RequestHead(method: .GET, uri: "-", version: .http1_1, keepAlive: false)
            current = InFlightRequest(head: head, number: requestCount, kind: .other, started: .now())
            let reply = AgentReply.text(status, reason, outcome: .error)
            guard case .bytes(let body) = reply.body else { return }
            let bytes = ResponseWriting.bytes(
                of: reply, body: body, length: body.count, version: head.version, keepAlive: false, allocator: allocator)
            let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(bytes))).whenComplete { _ in
                bound.value.handler.closeLingering(context: bound.value.context)
            }
            finished(reply, bytes: Int64(reply.contentLength ?? 0))
            machine.closed()
        }
    }

    /// Closes as RFC 9112 §9.6 asks: our side first, then, for a moment,
    /// whatever the client still sends (a body that was refused unread) is
    /// read and dropped. Closing at once with unread input would make the
    /// kernel reset the connection, and the client could lose the answer it
    /// was just sent.
    func closeLingering(context: ChannelHandlerContext) {
        guard !lingering else { return }
        lingering = true
        machine.closed()
        let channel = context.channel
        context.close(mode: .output).whenFailure { _ in channel.close(promise: nil) }
        context.eventLoop.scheduleTask(in: Self.lingerTime) { channel.close(promise: nil) }
    }

    static let lingerTime: TimeAmount = .seconds(2)

    func startHeadDeadline(context: ChannelHandlerContext) {
        guard headDeadline == nil else { return }
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        headDeadline = context.eventLoop.scheduleTask(in: limits.headTimeout) {
            let (handler, context) = bound.value
            handler.headDeadline = nil
            handler.perform(handler.machine.headDeadlinePassed(partialHead: handler.hasBufferedBytes), context: context)
        }
    }

    func cancelHeadDeadline() {
        headDeadline?.cancel()
        headDeadline = nil
    }

    func cancelTimers() {
        cancelHeadDeadline()
        sendWatch.timer?.cancel()
        sendWatch.timer = nil
        bodyStall?.cancel()
        bodyStall = nil
        work?.deadline.cancel()
    }

    func runWritabilityWaiters() {
        let waiters = writabilityWaiters
        writabilityWaiters.removeAll()
        for waiter in waiters { waiter() }
    }
}

/// How the connection knows that a client stopped taking its answer: the
/// writes it waits on, and when bytes last left (a write completed, or the
/// channel could write again).
struct SendWatch {
    /// Writes not completed yet.
    var pending = 0
    var lastProgress = NIODeadline.uptimeNanoseconds(0)
    var timer: Scheduled<Void>?

    /// `now` is the event loop's (a test's loop has a clock of its own).
    mutating func progressed(at now: NIODeadline) {
        lastProgress = now
    }
}

extension HTTPConnectionHandler {
    /// Counts `written` as outstanding until it completes; its completion is progress.
    func watchSend(_ written: EventLoopFuture<Void>, context: ChannelHandlerContext) {
        sendWatch.pending += 1
        watchSending(context: context)
        let bound = NIOLoopBound((handler: self, loop: context.eventLoop), eventLoop: context.eventLoop)
        written.whenComplete { _ in
            let (handler, loop) = bound.value
            handler.sendWatch.pending -= 1
            handler.sendWatch.progressed(at: loop.now)
        }
    }

    /// Starts the send deadline, unless it runs already: bytes are on their way.
    func watchSending(context: ChannelHandlerContext) {
        guard sendWatch.timer == nil, channelIsActive else { return }
        sendWatch.progressed(at: context.eventLoop.now)
        scheduleSendCheck(at: sendWatch.lastProgress + limits.headTimeout, context: context)
    }

    private func scheduleSendCheck(at deadline: NIODeadline, context: ChannelHandlerContext) {
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        sendWatch.timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = bound.value
            handler.sendWatch.timer = nil
            // Nothing on its way any more: the watch ends.
            guard handler.channelIsActive, handler.sendWatch.pending > 0 || !handler.channelIsWritable else { return }
            let due = handler.sendWatch.lastProgress + handler.limits.headTimeout
            if due > context.eventLoop.now {
                handler.scheduleSendCheck(at: due, context: context)
                return
            }
            handler.logger.notice(
                "a client took none of its answer for the request head timeout: closing its connection",
                metadata: ["client": "\(handler.client)", "timeout": "\(handler.limits.headTimeout)"])
            handler.machine.closed()
            // A reset: what is left unsent is dropped, and with it the files and pins it held.
            _ = (context.channel as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0))
            context.close(promise: nil)
        }
    }
}
