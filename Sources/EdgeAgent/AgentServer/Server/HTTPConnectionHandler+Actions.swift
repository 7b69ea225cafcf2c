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
