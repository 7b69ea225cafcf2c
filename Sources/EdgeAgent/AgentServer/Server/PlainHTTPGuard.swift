import NIOCore

/// The first handler of a connection to a TLS listener. A client that
/// speaks plain HTTP there (`GOPROXY=http://…` for an agent that serves
/// HTTPS) gets a plain `400` that says what to change, as nginx does,
/// instead of a connection dropped by the TLS layer without a word.
/// A TLS handshake passes through, and the guard steps aside.
final class PlainHTTPGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

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
        ConnectionRefusal.answerAndClose(
            context, status: "400 Bad Request", message: "goedge: this address speaks HTTPS: use https:// (GOPROXY=https://…)\n")
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if answered, let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
