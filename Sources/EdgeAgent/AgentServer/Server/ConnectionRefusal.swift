import Logging
import NIOCore
import Synchronization

/// Answers a connection that is not served with a status and one line that
/// says why, before reading anything from it, and closes it: a clear
/// refusal, rather than a queue or a silence the client cannot explain.
/// Whatever the peer does (a TLS handshake that never comes, an answer
/// never read), the connection is closed within the head timeout.
final class ConnectionRefusal: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    /// Why a connection is refused.
    enum Reason: Sendable {
        /// Beyond `max-connections`.
        case tooManyConnections(maximum: Int)
        /// From an address outside `client-hosts` (and `control-hosts`).
        case clientNotAllowed(String)
    }

    private let reason: Reason
    private let logger: Logger
    /// How long the refusal may take to be delivered.
    private let timeout: TimeAmount
    /// One warning per burst of refusals is enough for the log.
    private static let lastWarning = Atomic<Int64>(0)

    init(_ reason: Reason, logger: Logger, timeout: TimeAmount) {
        self.reason = reason
        self.logger = logger
        self.timeout = timeout
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        let head: String
        let message: String
        switch reason {
        case .tooManyConnections(let maximum):
            let now = Int64(NIODeadline.now().uptimeNanoseconds)
            if now - Self.lastWarning.load(ordering: .relaxed) > 10_000_000_000 {
                Self.lastWarning.store(now, ordering: .relaxed)
                logger.warning("too many connections: refusing new ones", metadata: ["max_connections": "\(maximum)"])
            }
            head = "503 Service Unavailable\r\nRetry-After: 1"
            message = "goedge: too many connections (max-connections is \(maximum)); try again shortly\n"
        case .clientNotAllowed(let client):
            RefusalMetrics.count(.clientHosts)
            logger.notice("refused a client outside client-hosts", metadata: ["client": "\(client)"])
            head = "403 Forbidden"
            message = "goedge: \(client) may not use this agent; its client-hosts setting lists who may\n"
        }
        Self.answerAndClose(context, status: head, message: message)
    }

    /// Writes `status` (and any header lines after it) with `message` as a
    /// text body, then closes as the connection handler does: our side first,
    /// the rest of what the client sends read and dropped for a moment.
    static func answerAndClose(_ context: ChannelHandlerContext, status: String, message: String) {
        var buffer = context.channel.allocator.buffer(capacity: 160 + message.utf8.count)
        buffer.writeString(
            "HTTP/1.1 " + status + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(message.utf8.count)\r\n"
                + "X-Cache: error\r\nConnection: close\r\n\r\n" + message)
        let channel = context.channel
        context.writeAndFlush(NIOAny(buffer)).whenComplete { _ in
            channel.close(mode: .output).whenFailure { _ in channel.close(promise: nil) }
            channel.eventLoop.scheduleTask(in: HTTPConnectionHandler.lingerTime) { channel.close(promise: nil) }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The client closed its side too: done.
        if let event = event as? ChannelEvent, event == .inputClosed { context.close(promise: nil) }
    }
}
