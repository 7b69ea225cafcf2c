import Logging
import NIOCore
import Synchronization

/// Answers a connection beyond `max-connections` with a 503 that says so,
/// and closes it: a clear refusal, rather than a queue the client cannot see.
final class ConnectionRefusal: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let maximum: Int
    private let logger: Logger
    /// One warning per burst of refusals is enough for the log.
    private static let lastWarning = Atomic<Int64>(0)

    init(maximum: Int, logger: Logger) {
        self.maximum = maximum
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        let now = Int64(NIODeadline.now().uptimeNanoseconds)
        if now - Self.lastWarning.load(ordering: .relaxed) > 10_000_000_000 {
            Self.lastWarning.store(now, ordering: .relaxed)
            logger.warning("too many connections: refusing new ones", metadata: ["max_connections": "\(maximum)"])
        }
        let message = "goedge: too many connections (max-connections is \(maximum)); try again shortly\n"
        var buffer = context.channel.allocator.buffer(capacity: 160 + message.utf8.count)
        buffer.writeString(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(message.utf8.count)\r\n"
                + "Retry-After: 1\r\nX-Cache: error\r\nConnection: close\r\n\r\n" + message)
        // Then the lingering close the connection handler does too: the request is read and dropped.
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in
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
