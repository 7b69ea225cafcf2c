import Logging
import NIOCore
import NIOHTTP1
import Sync

/// Serves one HTTP/1.1 connection: reads request heads, routes each
/// request, answers cache hits straight from the event loop, and waits for
/// the proxy otherwise.
///
/// Requests are read by ``RequestHeadParser`` and responses written here as
/// bytes (head and small body in one buffer, one write): for a GET/HEAD-only
/// proxy the generic HTTP/1 pipeline costs more than the rest of a cache
/// hit. Cached zips go out with sendfile through a `FileRegion`; the agent's
/// own streamed answers (prefetch progress) go out chunked.
///
/// Requests are answered in order, one at a time; requests pipelined behind
/// one in progress wait in ``queued``. On `ChannelShouldQuiesceEvent`
/// (graceful shutdown) an idle connection closes at once and a busy one after
/// its current response.
final class ProxyRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = IOData

    /// Answers requests under `/-/` (path after it, request, body); nil answers 404.
    /// `trusted`: the peer is one the control API may serve (see `control-hosts`).
    typealias AgentEndpointHandler =
        @Sendable (_ path: String, _ head: RequestHead, _ body: [UInt8], _ trusted: Bool) async -> AgentReply?

    /// Requests pipelined beyond this many are not queued: the connection closes.
    static let maximumQueuedRequests = 32

    private let proxy: ModuleProxy
    private let routes: RouteMemo
    private let agentEndpoints: AgentEndpointHandler
    private let statistics: ServerStatistics
    private let controlHosts: [HostPattern]
    private let activity: ActivityTracker
    private let logger: Logger

    /// Bytes received but not yet parsed into a request.
    private var unparsed: ByteBuffer?
    /// A request whose body is still arriving.
    private var receivingBody: (head: RequestHead, remaining: Int, body: [UInt8])?
    private var responding = false
    private var queued: [(head: RequestHead, body: [UInt8])] = []
    /// Set by a quiesce request or an unreadable request: close once the current response is out.
    private var closing = false
    /// Whether any request arrived on this connection yet.
    private var servedAny = false
    /// A graceful shutdown began: at most one more response, then close.
    private var quiesced = false
    /// What the request being answered asked for, for the metrics.
    private var kind = RequestKind.other

    init(context: HTTPServer.Context, routes: RouteMemo) {
        self.proxy = context.proxy
        self.routes = routes
        self.agentEndpoints = context.agentEndpoints
        self.statistics = context.statistics
        self.controlHosts = context.controlHosts
        self.activity = context.activity
        self.logger = context.logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if closing { return }
        if unparsed == nil {
            unparsed = incoming
        } else {
            unparsed!.writeBuffer(&incoming)
        }
        while !closing, var buffer = unparsed, buffer.readableBytes > 0 {
            if var receiving = receivingBody {
                let take = min(receiving.remaining, buffer.readableBytes)
                receiving.body += buffer.readBytes(length: take) ?? []
                receiving.remaining -= take
                unparsed = buffer.readableBytes > 0 ? buffer : nil
                if receiving.remaining > 0 {
                    receivingBody = receiving
                    return
                }
                receivingBody = nil
                received(receiving.head, body: receiving.body, context: context)
                continue
            }
            let outcome = buffer.withUnsafeReadableBytes { RequestHeadParser.parse($0) }
            switch outcome {
            case .needMoreBytes:
                return
            case .refused(let status, let reason):
                // The stream cannot be trusted past this point: answer, then hang up.
                unparsed = nil
                closing = true
                queued.removeAll()
                if !responding {
                    let head = RequestHead(method: .GET, uri: "-", version: .http1_1, keepAlive: false)
                    kind = .other
                    respond(to: head, with: .text(status, "goedge: \(reason)"), started: .now(), context: context)
                }
                return
            case .request(let head, let consumed):
                buffer.moveReaderIndex(forwardBy: consumed)
                unparsed = buffer.readableBytes > 0 ? buffer : nil
                if head.contentLength > 0 {
                    receivingBody = (head, head.contentLength, [])
                } else {
                    received(head, body: [], context: context)
                }
            }
        }
    }

    private func received(_ head: RequestHead, body: [UInt8], context: ChannelHandlerContext) {
        if responding {
            queued.append((head, body))
            if queued.count > Self.maximumQueuedRequests { context.close(promise: nil) }
        } else {
            handle(head, body: body, context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is ChannelShouldQuiesceEvent:
            // Shutting down: finish what is in progress, take no new work.
            quiesced = true
            queued.removeAll()
            if responding { return }
            if servedAny && unparsed == nil && receivingBody == nil {
                context.close(promise: nil)
                return
            }
            // Just accepted, or a request half-read: it may be on the way. Answer
            // it if it comes within a second, then close.
            let channel = context.channel
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .seconds(1)) {
                if !bound.value.responding { channel.close(promise: nil) }
            }
        case let idle as IdleStateHandler.IdleStateEvent where idle == .read:
            // A keep-alive connection that went quiet: let the client open a new one when it needs it.
            if !responding { context.close(promise: nil) }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    private func handle(_ head: RequestHead, body: [UInt8], context: ChannelHandlerContext) {
        responding = true
        servedAny = true
        let started = NIODeadline.now()
        switch routes.route(method: head.method, uri: head.uri) {
        case .failure(let error):
            kind = RequestKind(uri: head.uri)
            respond(to: head, with: .text(error.status, "goedge: \(error.message)"), extraHeader: error.allow.map { ("Allow", $0) },
                started: started, context: context)
        case .success(.proxy(let request)):
            kind = RequestKind(request.resource)
            if let answer = proxy.cachedClientAnswer(for: request) {
                respond(to: head, with: answer, started: started, context: context)
                return
            }
            let proxy = self.proxy
            respondLater(to: head, started: started, context: context) { AgentReply(await proxy.answer(request)) }
        case .success(.agent(let path)):
            kind = .agent
            let endpoints = agentEndpoints
            let trusted = PeerCheck.isTrusted(context.channel.remoteAddress, hosts: controlHosts)
            respondLater(to: head, started: started, context: context) {
                await endpoints(path, head, body, trusted) ?? .text(404, "no agent endpoint /-/\(path)")
            }
        }
    }

    private func respondLater(
        to head: RequestHead, started: NIODeadline, context: ChannelHandlerContext,
        _ work: @escaping @Sendable () async -> AgentReply
    ) {
        let promise = context.eventLoop.makePromise(of: AgentReply.self)
        promise.completeWithTask(work)
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        promise.futureResult.whenSuccess { reply in
            bound.value.handler.respond(
                to: head, with: reply.answer, extraHeader: reply.extraHeader, started: started, context: bound.value.context)
        }
    }

    private func respond(
        to request: RequestHead, with answer: ProxyAnswer, extraHeader: (String, String)? = nil,
        started: NIODeadline, context: ChannelHandlerContext
    ) {
        guard context.channel.isActive else {
            answer.release()
            return
        }
        let sendsBody = request.method != .HEAD
        let keepAlive = request.keepAlive && !closing && !quiesced
        let length: Int64
        /// The head in a buffer with room for `bodyBytes` more.
        func head(contentLength: Int64?, keepAlive: Bool, chunked: Bool = false, bodyBytes: Int = 0) -> ByteBuffer {
            var buffer = context.channel.allocator.buffer(
                capacity: ResponseHeadWriter.capacity(for: answer, extraHeader: extraHeader) + bodyBytes)
            ResponseHeadWriter.write(
                version: request.version, answer: answer, contentLength: contentLength, keepAlive: keepAlive,
                chunked: chunked, extraHeader: extraHeader, into: &buffer)
            return buffer
        }
        // One switch on the body: every look at it copies it (and retains what it holds).
        switch answer.body {
        case .bytes(let bytes):
            length = Int64(bytes.count)
            var buffer = head(contentLength: length, keepAlive: keepAlive, bodyBytes: sendsBody ? bytes.count : 0)
            if sendsBody { buffer.writeBytes(bytes) }
            if keepAlive {
                // Nothing to release or close afterwards: no completion to wait for.
                context.writeAndFlush(wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
            } else {
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(.byteBuffer(buffer))).whenComplete { _ in channel.close(promise: nil) }
            }
        case .file(let hit):
            length = hit.size
            let buffer = head(contentLength: length, keepAlive: keepAlive)
            let sent: EventLoopFuture<Void>
            var file: NIOFileHandle?
            if sendsBody, let descriptor = hit.takeDescriptor() {
                let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor)
                file = handle
                // The head goes out in a segment of its own. TCP_CORK (nginx's tcp_nopush) would join
                // them, but in A/B runs its two setsockopt calls per zip cost more than that saved.
                context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
                let region = FileRegion(fileHandle: handle, readerIndex: 0, endIndex: Int(length))
                sent = context.writeAndFlush(wrapOutboundOut(.fileRegion(region)))
            } else {
                sent = context.writeAndFlush(wrapOutboundOut(.byteBuffer(buffer)))
            }
            let channel = context.channel
            sent.whenComplete { [file] _ in
                try? file?.close()
                hit.release()
                if !keepAlive { channel.close(promise: nil) }
            }
        case .stream(let chunks):
            // Without chunked encoding (HTTP/1.0) a stream ends with the connection.
            let chunked = request.version.minor >= 1
            let buffer = head(contentLength: nil, keepAlive: keepAlive && chunked, chunked: chunked)
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
            stream(
                chunks, chunked: chunked && sendsBody, request: request, answer: answer, keepAlive: keepAlive && chunked,
                started: started, context: context)
            return
        }
        finished(request, answer: answer, bytes: sendsBody ? length : 0, keepAlive: keepAlive, started: started, context: context)
    }

    /// Sends a streamed body as it comes, then ends the response.
    private func stream(
        _ chunks: AsyncStream<[UInt8]>, chunked: Bool, request: RequestHead, answer: ProxyAnswer, keepAlive: Bool,
        started: NIODeadline, context: ChannelHandlerContext
    ) {
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        let sendsBody = request.method != .HEAD
        Task {
            var sent: Int64 = 0
            for await chunk in chunks where sendsBody && !chunk.isEmpty {
                sent += Int64(chunk.count)
                loop.execute {
                    let context = bound.value.context
                    var buffer = context.channel.allocator.buffer(capacity: chunk.count + 16)
                    if chunked { buffer.writeString(String(chunk.count, radix: 16) + "\r\n") }
                    buffer.writeBytes(chunk)
                    if chunked { buffer.writeStaticString("\r\n") }
                    context.writeAndFlush(bound.value.handler.wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
                }
            }
            let total = sent
            loop.execute {
                let (handler, context) = bound.value
                let end = context.eventLoop.makePromise(of: Void.self)
                var buffer = context.channel.allocator.buffer(capacity: 8)
                if chunked && sendsBody { buffer.writeStaticString("0\r\n\r\n") }
                context.writeAndFlush(handler.wrapOutboundOut(.byteBuffer(buffer)), promise: end)
                let channel = context.channel
                end.futureResult.whenComplete { _ in if !keepAlive { channel.close(promise: nil) } }
                handler.finished(request, answer: answer, bytes: total, keepAlive: keepAlive, started: started, context: context)
            }
        }
    }

    /// Logs and counts a response, then goes on with the next request.
    private func finished(
        _ request: RequestHead, answer: ProxyAnswer, bytes: Int64, keepAlive: Bool, started: NIODeadline,
        context: ChannelHandlerContext
    ) {
        AccessLog.record(request: request, answer: answer, bytes: bytes, started: started, logger: logger)
        statistics.record(answer.cacheStatus, kind: kind, bytes: bytes)
        if answer.upstreamDuration != nil { activity.touch() }

        responding = false
        if !keepAlive {
            closing = true
            queued.removeAll()
        } else if !queued.isEmpty {
            let next = queued.removeFirst()
            handle(next.head, body: next.body, context: context)
        }
    }
}
