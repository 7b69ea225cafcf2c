import NIOCore

/// The first handler of a connection to a TLS listener. A client that
/// speaks plain HTTP there (`GOPROXY=http://…` for an agent that serves
/// HTTPS) gets a plain `400` that says what to change, as nginx does,
/// instead of a connection dropped by the TLS layer without a word.
/// A TLS handshake passes through, and the guard steps aside.
final class PlainHTTPGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// A TLS record of type handshake starts with this byte.
    private static let handshakeRecord: UInt8 = 0x16
    private var answered = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        let bytes = unwrapInboundIn(data)
        guard let first = bytes.getInteger(at: bytes.readerIndex, as: UInt8.self) else { return }
        if first == Self.handshakeRecord {
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(self, promise: nil)
            return
        }
        answered = true
        let message = "goedge: this address speaks HTTPS: use https:// (GOPROXY=https://…)\n"
        var buffer = context.channel.allocator.buffer(capacity: 160 + message.utf8.count)
        buffer.writeString(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(message.utf8.count)\r\n"
                + "X-Cache: error\r\nConnection: close\r\n\r\n" + message)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in
            channel.close(mode: .output).whenFailure { _ in channel.close(promise: nil) }
            channel.eventLoop.scheduleTask(in: HTTPConnectionHandler.lingerTime) { channel.close(promise: nil) }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if answered, let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
