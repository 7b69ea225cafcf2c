import Logging
import ModuleProxy
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#endif

/// Serves one HTTP/1.1 connection, carrying out what its
/// ``ConnectionStateMachine`` decides: reads request heads, routes each,
/// answers cache hits straight from the event loop and waits for the proxy
/// or an agent endpoint otherwise.
///
/// Requests are read by ``RequestHeadParser`` and responses written as bytes
/// (head and small body in one buffer, one write): for a GET/HEAD proxy the
/// generic HTTP/1 pipeline costs more than the rest of a cache hit. The
/// control plane's bodies are framed by the same parser (Content-Length
/// only) and read only once the head was admitted; they reach their
/// endpoint as a stream with backpressure (``RequestBody``).
///
/// Every request is bounded in time: its head must arrive within the head
/// timeout, and an answer that takes longer than the request timeout is
/// replaced by a 504 with the reason, so no client ever waits in silence.
/// Every answer is bounded too: a client that takes none of its bytes for
/// the head timeout loses its connection, and with it the file and the
/// cache pin the answer held (``SendWatch``).
final class HTTPConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    let proxy: ModuleProxy
    let routes: RouteMemo
    let endpoints: any AgentEndpointServing
    let statistics: ServerStatistics
    let admission: Admission
    let activity: ActivityTracker
    let limits: ConnectionLimits
    let logger: Logger
    /// Whether each request gets a log line (info level).
    let logsRequests: Bool
    /// Whether the connection speaks TLS: cached files then go through
    /// memory (TLS encrypts in user space), not sendfile.
    let encrypted: Bool

    var machine = ConnectionStateMachine()
    /// Bytes received and not yet parsed (the next request's, while one is answered).
    var buffered: ByteBuffer?
    /// The request being answered.
    var current = InFlightRequest.none
    var requestCount = 0
    /// The peer, as the access log names it (set when the handler is added).
    var client = "?"
    /// The user the current request authenticated as, for the access log.
    var user: String?
    /// The peer, for admission (its address, and its user id over the unix socket).
    var peer = Admission.Peer()
    /// The answer being waited for, to cancel when its time is up.
    var work: (task: Task<Void, Never>, deadline: Scheduled<Void>)?
    var headDeadline: Scheduled<Void>?
    /// Where the head being received was scanned to, so that a head
    /// arriving in small pieces is not scanned again from its start.
    var headProgress = RequestHeadParser.Progress()
    /// Inside ``process(context:)``: a request answered at once goes on from there.
    private var processing = false
    /// Pipelined requests answered in one turn of the event loop.
    static let requestsPerTurn = 64
    /// Answers' bytes that have not left yet, and since when none has.
    var sendWatch = SendWatch()
    /// Where an admitted request's body goes.
    private var bodySource: RequestBody.Chunks.Source?
    /// The body's consumer finished early: the rest is read and dropped.
    private var bodyDropped = false
    var bodyStall: Scheduled<Void>?
    /// Work waiting for the channel to become writable again (a streamed body's next chunk).
    var writabilityWaiters: [() -> Void] = []
    /// A cached file being sent over TLS.
    var fileBody: FileBody?
    /// Our side is shut; what the client still sends is read and dropped until it closes too.
    var lingering = false
    /// The channel's state and allocator, kept from its events: asking the
    /// channel goes through the pipeline and its locks on every request.
    var channelIsActive = false
    var channelIsWritable = true
    var allocator = ByteBufferAllocator()

    init(context: HTTPServer.Context, routes: RouteMemo, encrypted: Bool = false) {
        self.encrypted = encrypted
        self.proxy = context.proxy
        self.routes = routes
        self.endpoints = context.endpoints
        self.statistics = context.statistics
        self.admission = context.admission
        self.activity = context.activity
        self.limits = context.limits
        self.logger = context.logger
        self.logsRequests = context.logger.logLevel <= .info
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        channelIsActive = context.channel.isActive
        channelIsWritable = context.channel.isWritable
        _ = machine.writabilityChanged(writable: channelIsWritable)
        allocator = context.channel.allocator
        peer = Admission.Peer(address: context.channel.remoteAddress, unixUser: ClientIdentity.peerUID(context.channel))
        client = ClientIdentity.describe(context.channel, peerUID: peer.unixUser)
    }

    func channelActive(context: ChannelHandlerContext) {
        channelIsActive = true
        // Known once connected (a handler may be added before).
        peer.address = context.channel.remoteAddress
        // The first request head has its time from the moment of connecting.
        startHeadDeadline(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        channelIsActive = false
        machine.closed()
        cancelTimers()
        work?.task.cancel()
        bodySource?.finish()
        runWritabilityWaiters()
        context.fireChannelInactive()
    }

    /// NIO reads on its own after each read (autoRead), through here: while
    /// a body is consumed or a response is out, the read is held back, and
    /// made once the connection can take more (as SwiftNIO's own
    /// HTTPServerPipelineHandler does).
    func read(context: ChannelHandlerContext) {
        if lingering || machine.readRequested() { context.read() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        // Closed, or closing: what still comes is nobody's.
        guard machine.state != .closed, !lingering else { return }
        if buffered == nil {
            buffered = incoming
        } else {
            buffered!.writeBuffer(&incoming)
        }
        process(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        channelIsWritable = context.channel.isWritable
        if channelIsWritable {
            sendWatch.progressed(at: context.eventLoop.now)
            runWritabilityWaiters()
        } else {
            watchSending(context: context)
        }
        // Requests (and reads) wait while the client is not taking its answers.
        perform(machine.writabilityChanged(writable: channelIsWritable), context: context)
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is ChannelShouldQuiesceEvent:
            let action = machine.quiesce(partialHead: hasBufferedBytes)
            perform(action, context: context)
            if action == .none && machine.state == .idle {
                // Just accepted, or a head half-read: it may be on its way. Answer it if it comes soon, then close.
                let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: .seconds(1)) {
                    let (handler, context) = bound.value
                    if handler.machine.state == .idle { handler.perform(.close, context: context) }
                }
            }
        case let event as ChannelEvent where event == .inputClosed:
            if lingering {
                context.close(promise: nil)
                return
            }
            perform(machine.inputEnded(partialHead: hasBufferedBytes), context: context)
        case let idle as IdleStateHandler.IdleStateEvent where idle == .read:
            // A keep-alive connection that went quiet: the client opens a new one when it needs it.
            if machine.state == .idle && !hasBufferedBytes { perform(.close, context: context) }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        machine.closed()
        context.close(promise: nil)
    }

    var hasBufferedBytes: Bool { (buffered?.readableBytes ?? 0) > 0 }

    // MARK: Reading requests

    /// Takes requests (and body bytes) from what was received, as far as the
    /// state allows. Answers made at once end by asking for this again: that
    /// is a turn of the loop here, never a deeper call (a pipelining client
    /// would otherwise nest one call per request it sent). After a batch of
    /// requests the rest waits for the event loop's next turn, so that one
    /// connection cannot keep the loop from the others.
    func process(context: ChannelHandlerContext) {
        guard !processing else { return }
        processing = true
        defer { processing = false }
        var answered = 0
        while var buffer = buffered, buffer.readableBytes > 0 {
            if answered == Self.requestsPerTurn {
                let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
                context.eventLoop.execute {
                    let (handler, context) = bound.value
                    if handler.machine.state == .idle { handler.process(context: context) }
                }
                return
            }
            switch machine.state {
            case .idle:
                // The client must take its answers before it gets more.
                guard channelIsWritable else { return }
                let outcome = buffer.withUnsafeReadableBytes { RequestHeadParser.parse($0, progress: &headProgress) }
                switch outcome {
                case .needMoreBytes:
                    // A head that came whole needed no timer; one that comes in pieces has its time from now.
                    startHeadDeadline(context: context)
                    return
                case .refused(let status, let reason):
                    // The stream cannot be trusted past this point: answer, then hang up.
                    buffered = nil
                    perform(.refuse(status: status, reason: reason), context: context)
                    return
                case .request(let head, let consumed):
                    headProgress = RequestHeadParser.Progress()
                    buffer.moveReaderIndex(forwardBy: consumed)
                    buffered = buffer.readableBytes > 0 ? buffer : nil
                    cancelHeadDeadline()
                    answered += 1
                    handle(head, context: context)
                }
            case .receivingBody:
                let (taken, ended) = machine.bodyReceived(buffer.readableBytes)
                let chunk = buffer.readSlice(length: taken)!
                buffered = buffer.readableBytes > 0 ? buffer : nil
                deliverBody(chunk, ended: ended, context: context)
            case .responding, .closed:
                return
            }
        }
        // All taken: a read held back while answering is made now (and what
        // it brings, should it come at once, is taken as usual).
        if machine.state == .idle, machine.takeHeldRead() {
            processing = false
            context.read()
        }
    }

    private func deliverBody(_ chunk: ByteBuffer, ended: Bool, context: ChannelHandlerContext) {
        bodyStall?.cancel()
        if !bodyDropped, let source = bodySource {
            if source.yield(chunk) == .stopProducing {
                perform(machine.bodyDemandChanged(paused: true), context: context)
            }
        }
        if ended {
            bodySource?.finish()
            bodySource = nil
        } else {
            let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
            bodyStall = context.eventLoop.scheduleTask(in: limits.headTimeout) {
                let (handler, context) = bound.value
                handler.logger.notice("request body stopped arriving: closing the connection")
                handler.perform(handler.machine.bodyStalled(), context: context)
            }
        }
    }

    // MARK: Answering requests

    private func handle(_ head: RequestHead, context: ChannelHandlerContext) {
        requestCount += 1
        let started = NIODeadline.now()
        let route: Route
        do {
            route = try routes.route(method: head.method, uri: head.uri)
        } catch {
            begin(head, kind: RequestKind(uri: head.uri), started: started, bodyAccepted: false)
            let allow = error.allow.map { [(name: "Allow", value: $0)] } ?? []
            respond(with: .text(error.status, error.message, outcome: .error, extraHeaders: allow), context: context)
            return
        }
        switch route {
        case .proxy(let request):
            begin(head, kind: RequestKind(request.resource), started: started, bodyAccepted: false)
            current.resource = request.resource
            guard head.contentLength == 0 else {
                respond(with: .text(400, "GOPROXY requests have no body", outcome: .error), context: context)
                return
            }
            // A control host outside client-hosts got this far; its module requests are refused still.
            switch admission.admit(.modules, from: peer, authorization: head.authorization) {
            case .refuse(let refusal):
                refuse(refusal, context: context)
                return
            case .allow(let authenticated):
                user = authenticated
            }
            if let answer = proxy.cachedClientAnswer(for: request) {
                respond(with: AgentReply(answer), context: context)
                return
            }
            let proxy = self.proxy
            answerLater(context: context) { AgentReply(await proxy.answer(request)) }
        case .agent(let path):
            guard let access = endpoints.access(path: path) else {
                begin(head, kind: .agent, started: started, bodyAccepted: false)
                respond(with: .text(404, "no agent endpoint /-/\(path)"), context: context)
                return
            }
            // What the endpoint takes (its methods) is no secret; who may use it is decided next.
            let acceptance = endpoints.accept(path: path, method: head.method)
            guard case .serve(let bodyLimit) = acceptance else {
                begin(head, kind: .agent, started: started, bodyAccepted: false)
                if case .refuse(let status, let message, let allow) = acceptance {
                    let allowHeader = allow.map { [(name: "Allow", value: $0)] } ?? []
                    respond(with: .text(status, message, extraHeaders: allowHeader), context: context)
                }
                return
            }
            if case .refuse(let refusal) = admission.admit(access, from: peer, authorization: head.authorization) {
                begin(head, kind: .agent, started: started, bodyAccepted: false)
                refuse(refusal, context: context)
                return
            }
            guard head.contentLength <= bodyLimit else {
                begin(head, kind: .agent, started: started, bodyAccepted: false)
                let message = bodyLimit == 0 ? "this endpoint takes no body" : "request body larger than \(bodyLimit) bytes"
                respond(with: .text(bodyLimit == 0 ? 400 : 413, message), context: context)
                return
            }
            begin(head, kind: .agent, started: started, bodyAccepted: true)
            let body = makeBody(length: head.contentLength, continueExpected: head.expectsContinue, context: context)
            let endpoints = self.endpoints
            answerLater(context: context) { await endpoints.reply(path: path, head: head, body: body) }
        }
    }

    /// Answers a request ``Admission`` refused, and counts it.
    private func refuse(_ refusal: Admission.Refusal, context: ChannelHandlerContext) {
        if let metric = refusal.metric { RefusalMetrics.count(metric) }
        respond(with: .text(refusal.status, refusal.message, outcome: .error, extraHeaders: refusal.headers), context: context)
    }

    private func begin(_ head: RequestHead, kind: RequestKind, started: NIODeadline, bodyAccepted: Bool) {
        current = InFlightRequest(head: head, number: requestCount, kind: kind, started: started)
        user = nil
        _ = machine.requestStarted(bodyLength: head.contentLength, keepAlive: head.keepAlive, bodyAccepted: bodyAccepted)
    }

    /// A body stream for an admitted request; `100 Continue` when the client waits for one.
    private func makeBody(length: Int, continueExpected: Bool, context: ChannelHandlerContext) -> RequestBody {
        guard length > 0 else { return .empty }
        bodyDropped = false
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        let demand = BodyDemand { wantsMore, consumerGone in
            loop.execute {
                let (handler, context) = bound.value
                if consumerGone { handler.bodyDropped = true }
                handler.perform(handler.machine.bodyDemandChanged(paused: !wantsMore), context: context)
            }
        }
        let produced = NIOAsyncSequenceProducer.makeSequence(
            elementType: ByteBuffer.self,
            backPressureStrategy: NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark(lowWatermark: 4, highWatermark: 16),
            finishOnDeinit: true, delegate: demand)
        bodySource = produced.source
        if continueExpected {
            var buffer = context.channel.allocator.buffer(capacity: 25)
            buffer.writeStaticString("HTTP/1.1 100 Continue\r\n\r\n")
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
        }
        return RequestBody(length: length, chunks: produced.sequence)
    }

    /// Waits for an answer off the event loop, within the request timeout.
    private func answerLater(context: ChannelHandlerContext, _ produce: @escaping @Sendable () async -> AgentReply) {
        let number = requestCount
        let promise = context.eventLoop.makePromise(of: AgentReply.self)
        let task = promise.completeWithTask(produce)
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        let deadline = context.eventLoop.scheduleTask(in: limits.requestTimeout) {
            let (handler, context) = bound.value
            handler.requestTimedOut(number, context: context)
        }
        work = (task, deadline)
        promise.futureResult.whenSuccess { reply in
            let (handler, context) = bound.value
            guard handler.current.number == number, handler.work != nil else {
                // Answered already (a 504 went out): this one is nobody's.
                return
            }
            handler.work?.deadline.cancel()
            handler.work = nil
            handler.respond(with: reply, context: context)
        }
        // Reading goes on for the body, if there is one.
        process(context: context)
    }

    private func requestTimedOut(_ number: Int, context: ChannelHandlerContext) {
        guard current.number == number, let pending = work else { return }
        work = nil
        pending.task.cancel()
        logger.warning(
            "request timed out: answering 504",
            metadata: ["path": "\(current.head.uri)", "timeout": "\(limits.requestTimeout)"])
        let seconds = limits.requestTimeout.nanoseconds / 1_000_000_000
        let reply = AgentReply.text(
            504, "no answer within \(seconds)s (goedge's request-timeout): the upstream is too slow or stuck", outcome: .error)
        if case .receivingBody = machine.state { _ = machine.bodyStalled() }
        respond(with: reply, context: context)
    }
}
