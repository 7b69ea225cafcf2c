import Logging
import NIOCore
import NIOHTTP1
import Sync

/// Serves one HTTP/1.1 connection: routes each request, answers cache hits
/// straight from the event loop, and waits for the proxy otherwise.
///
/// Requests are handled one at a time (the pipeline's pipelining helper holds
/// the next one back until the response ends). Cached files go out with
/// sendfile through a `FileRegion`, never through memory.
final class ProxyRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Answers requests under `/-/`; nil answers 404.
    typealias AgentEndpoints = @Sendable (_ path: String, _ head: HTTPRequestHead) async -> ProxyAnswer?

    private let proxy: ModuleProxy
    private let agentEndpoints: AgentEndpoints
    private let logger: Logger
    private var requestHead: HTTPRequestHead?

    init(proxy: ModuleProxy, agentEndpoints: @escaping AgentEndpoints, logger: Logger) {
        self.proxy = proxy
        self.agentEndpoints = agentEndpoints
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            requestHead = head
        case .body:
            // GET and HEAD carry no meaningful body.
            break
        case .end:
            guard let head = requestHead else { return }
            requestHead = nil
            handle(head, context: context)
        }
    }

    private func handle(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let started = NIODeadline.now()
        switch RequestRouter.route(method: head.method, uri: head.uri) {
        case .failure(let error):
            var answer = ProxyAnswer.text(error.status, "goedge: \(error.message)")
            answer.cacheStatus = .error
            respond(to: head, with: answer, extraHeaders: error.allow.map { [("Allow", $0)] } ?? [], started: started, context: context)
        case .success(.proxy(let resource)):
            if let answer = proxy.cachedAnswer(for: resource) {
                respond(to: head, with: answer, started: started, context: context)
                return
            }
            let proxy = self.proxy
            respondLater(to: head, started: started, context: context) { await proxy.answer(resource) }
        case .success(.agent(let path)):
            let endpoints = agentEndpoints
            respondLater(to: head, started: started, context: context) {
                await endpoints(path, head) ?? .text(404, "goedge: no agent endpoint /-/\(path)")
            }
        }
    }

    private func respondLater(
        to head: HTTPRequestHead, started: NIODeadline, context: ChannelHandlerContext,
        _ work: @escaping @Sendable () async -> ProxyAnswer
    ) {
        let promise = context.eventLoop.makePromise(of: ProxyAnswer.self)
        promise.completeWithTask(work)
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        promise.futureResult.whenSuccess { answer in
            bound.value.handler.respond(to: head, with: answer, started: started, context: bound.value.context)
        }
    }

    private func respond(
        to request: HTTPRequestHead, with answer: ProxyAnswer, extraHeaders: [(String, String)] = [],
        started: NIODeadline, context: ChannelHandlerContext
    ) {
        guard context.channel.isActive else {
            answer.release()
            return
        }
        let keepAlive = request.isKeepAlive
        var headers = HTTPHeaders()
        headers.reserveCapacity(6)
        headers.add(name: "Content-Type", value: answer.contentType)
        headers.add(name: "Content-Length", value: String(answer.contentLength))
        headers.add(name: "X-Cache", value: answer.cacheStatus.rawValue)
        if let warning = answer.warning { headers.add(name: "Warning", value: warning) }
        for (name, value) in extraHeaders { headers.add(name: name, value: value) }
        if !keepAlive {
            headers.add(name: "Connection", value: "close")
        } else if request.version.major == 1 && request.version.minor == 0 {
            headers.add(name: "Connection", value: "keep-alive")
        }
        let status = HTTPResponseStatus(statusCode: answer.status, reasonPhrase: answer.reason)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)

        let fileHandle = request.method == .HEAD ? nil : writeBody(answer.body, context: context)
        let channel = context.channel
        let logger = self.logger
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { result in
            try? fileHandle?.close()
            answer.release()
            if case .failure = result {
                logger.debug("client went away", metadata: ["path": "\(request.uri)"])
            }
            if !keepAlive { channel.close(promise: nil) }
        }
        AccessLog.record(request: request, answer: answer, started: started, logger: logger)
    }

    /// Writes the body; returns the file handle to close once it is sent.
    private func writeBody(_ body: ProxyAnswer.Body, context: ChannelHandlerContext) -> NIOFileHandle? {
        switch body {
        case .bytes(let bytes):
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)))), promise: nil)
            return nil
        case .file(let hit):
            guard let descriptor = hit.takeDescriptor() else { return nil }
            let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor)
            let region = FileRegion(fileHandle: handle, readerIndex: 0, endIndex: Int(hit.size))
            context.write(wrapOutboundOut(.body(.fileRegion(region))), promise: nil)
            return handle
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}

/// One log line per request at info level.
enum AccessLog {
    static func record(request: HTTPRequestHead, answer: ProxyAnswer, started: NIODeadline, logger: Logger) {
        guard logger.logLevel <= .info else { return }
        let elapsed = Double((NIODeadline.now() - started).nanoseconds) / 1e6
        var metadata: Logger.Metadata = [
            "status": "\(answer.status)",
            "bytes": "\(request.method == .HEAD ? 0 : answer.contentLength)",
            "cache": "\(answer.cacheStatus.rawValue)",
            "ms": "\(format(elapsed))",
        ]
        if let upstream = answer.upstreamDuration {
            let milliseconds = Double(upstream.components.seconds) * 1e3 + Double(upstream.components.attoseconds) / 1e15
            metadata["upstream_ms"] = "\(format(milliseconds))"
        }
        logger.info("\(request.method.rawValue) \(request.uri)", metadata: metadata)
    }

    private static func format(_ milliseconds: Double) -> String {
        let rounded = (milliseconds * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
