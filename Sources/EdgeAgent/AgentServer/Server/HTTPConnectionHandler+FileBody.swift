#if canImport(Glibc)
import Glibc
#endif
import LRUCache
import NIOCore
import Synchronization

/// A cached file on its way to a client over TLS, which cannot take
/// sendfile's file regions. Event-loop state of its connection handler.
struct FileBody {
    let hit: CacheHit
    let reply: AgentReply
    let keepAlive: Bool
    /// The response's head, sent with the first piece: one TLS record
    /// fewer for every file, most of them small.
    var head: ByteBuffer?
    /// Bytes read and handed to the channel.
    var sent: Int64 = 0
    /// A piece is being read on the blocking pool (its bytes were not in memory).
    var readingOnPool = false
    var lastWrite: EventLoopFuture<Void>?
}

/// Sending a cached file over TLS: read on the event loop straight into
/// the buffers it writes, as long as the page cache holds the bytes
/// (nothing waits for the disk there), on the blocking pool when it does
/// not; a piece whenever the client can take one.
extension HTTPConnectionHandler {
    /// Bytes read for one write.
    static let encryptedFilePiece = 256 << 10

    /// Pieces that had to be read on the blocking pool: a test's way to see that path taken.
    package static let piecesReadOnPool = Atomic<Int>(0)

    func sendEncrypted(
        _ hit: CacheHit, head: ByteBuffer, reply: AgentReply, keepAlive: Bool, context: ChannelHandlerContext
    ) {
        fileBody = FileBody(hit: hit, reply: reply, keepAlive: keepAlive, head: head)
        sendFileBody(context: context)
    }

    /// Writes pieces while the client can take them; goes on when it can
    /// take more, or once a piece read on the pool is in.
    func sendFileBody(context: ChannelHandlerContext) {
        guard var body = fileBody, !body.readingOnPool else { return }
        guard channelIsActive else {
            // The client went away: what it was sent is logged, and the file let go.
            fileBody = nil
            finished(body.reply, bytes: body.sent)
            return
        }
        while body.sent < body.hit.size && context.channel.isWritable {
            let want = Int(min(body.hit.size - body.sent, Int64(Self.encryptedFilePiece)))
            var buffer: ByteBuffer
            if var head = body.head.take() {
                buffer = allocator.buffer(capacity: head.readableBytes + want)
                buffer.writeBuffer(&head)
            } else {
                buffer = allocator.buffer(capacity: want)
            }
            var outcome = CacheHit.ImmediateRead.wouldWait
            do {
                let offset = body.sent
                try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { space in
                    outcome = try body.hit.readWithoutWaiting(at: offset, into: UnsafeMutableRawBufferPointer(rebasing: space[..<want]))
                    if case .read(let count) = outcome { return count }
                    return 0
                }
            } catch {
                fileBody = nil
                unreadable(body, error, context: context)
                return
            }
            switch outcome {
            case .read(let count):
                body.sent += Int64(count)
                body.lastWrite = writePiece(buffer, context: context)
            case .end:
                fileBody = nil
                shrank(body, context: context)
                return
            case .wouldWait:
                // The head goes now; the piece when the pool has read it.
                if buffer.readableBytes > 0 { context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: nil) }
                body.readingOnPool = true
                fileBody = body
                readOnPool(body, want: want, context: context)
                return
            }
        }
        if body.sent >= body.hit.size {
            fileBody = nil
            finished(body.reply, bytes: body.sent)
            endResponse(after: body.lastWrite ?? context.eventLoop.makeSucceededVoidFuture(), keepAlive: body.keepAlive, context: context)
            return
        }
        fileBody = body
        writabilityWaiters.append { [self] in sendFileBody(context: context) }
    }

    private func writePiece(_ buffer: ByteBuffer, context: ChannelHandlerContext) -> EventLoopFuture<Void> {
        let written = context.writeAndFlush(wrapOutboundOut(.byteBuffer(buffer)))
        watchSend(written, context: context)
        return written
    }

    private func readOnPool(_ body: FileBody, want: Int, context: ChannelHandlerContext) {
        Self.piecesReadOnPool.add(1, ordering: .relaxed)
        let (hit, offset, allocator) = (body.hit, body.sent, allocator)
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        BlockingIO.run(completingOn: context.eventLoop) { () throws -> ByteBuffer in
            var buffer = allocator.buffer(capacity: want)
            try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { space in
                try hit.read(at: offset, into: UnsafeMutableRawBufferPointer(rebasing: space[..<want]))
            }
            return buffer
        }.whenComplete { result in
            let (handler, context) = bound.value
            guard var body = handler.fileBody else { return }
            body.readingOnPool = false
            switch result {
            case .success(let buffer) where buffer.readableBytes > 0:
                body.sent += Int64(buffer.readableBytes)
                if handler.channelIsActive { body.lastWrite = handler.writePiece(buffer, context: context) }
                handler.fileBody = body
                handler.sendFileBody(context: context)
            case .success:
                handler.fileBody = nil
                handler.shrank(body, context: context)
            case .failure(let error):
                handler.fileBody = nil
                handler.unreadable(body, error, context: context)
            }
        }
    }

    private func unreadable(_ body: FileBody, _ error: any Error, context: ChannelHandlerContext) {
        logger.warning("a cached file could not be read while it was sent", metadata: ["file": "\(body.hit.key)", "error": "\(error)"])
        cutMidway(body.reply, bytes: body.sent, context: context)
    }

    /// The file is shorter than its index entry: damage. It leaves the
    /// cache, and the body fails midway rather than be padded or spun on.
    private func shrank(_ body: FileBody, context: ChannelHandlerContext) {
        logger.warning("a cached file shrank while it was sent: removed", metadata: ["file": "\(body.hit.key)"])
        proxy.store.removeDamaged(body.hit.key)
        cutMidway(body.reply, bytes: body.sent, context: context)
    }

    /// Ends a response whose body failed midway: a reset, not an orderly
    /// end, so that even a body without a length cannot look whole.
    func cutMidway(_ reply: AgentReply, bytes: Int64, context: ChannelHandlerContext) {
        finished(reply, bytes: bytes)
        machine.closed()
        _ = (context.channel as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0))
        context.close(promise: nil)
    }
}
