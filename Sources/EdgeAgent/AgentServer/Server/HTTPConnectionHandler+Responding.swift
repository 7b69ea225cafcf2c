#if canImport(Glibc)
import Glibc
#endif
import LRUCache
import Upstream
import NIOCore
import NIOHTTP1
import Logging
import Synchronization

/// Writing responses: small bodies in one buffer with their head, cached
/// files with sendfile, streamed bodies chunk by chunk as the client takes
/// them.
extension HTTPConnectionHandler {
    func respond(with reply: AgentReply, context: ChannelHandlerContext) {
        guard current.number > 0, channelIsActive, machine.state != .closed else {
            machine.closed()
            return
        }
        // Read from the request in place: a copy of its head costs more than the checks.
        let version = current.head.version
        let sendsBody = current.sendsBody
        let keepAlive = !machine.responseCloses
        switch reply.body {
        case .bytes(let bytes):
            let buffer = ResponseWriting.bytes(
                of: reply, body: sendsBody ? bytes : [], length: bytes.count, version: version, keepAlive: keepAlive,
                allocator: allocator)
            write(buffer, keepAlive: keepAlive, context: context)
            finished(reply, bytes: sendsBody ? Int64(bytes.count) : 0)
        case .file(let hit):
            let joined = sendsBody && !encrypted && hit.size > 0 && hit.size <= Self.fileJoinedToHead
            var head = allocator.buffer(capacity: ResponseHeadWriter.capacity(for: reply) + (joined ? Int(hit.size) : 0))
            ResponseHeadWriter.write(
                version: version, answer: reply, contentLength: hit.size, keepAlive: keepAlive, into: &head)
            // A small file goes out with its head in one write, read here
            // when the page cache holds it: one segment and one system call,
            // where sendfile after the head takes two of each.
            if joined, Self.append(hit, to: &head) {
                write(head, keepAlive: keepAlive, context: context)
                finished(reply, bytes: hit.size)
                return
            }
            // TLS encrypts in user space: no sendfile, and nothing to send for an empty file.
            guard sendsBody, hit.size > 0, !encrypted, let descriptor = hit.takeDescriptor() else {
                if sendsBody && encrypted && hit.size > 0 {
                    sendEncrypted(hit, head: head, reply: reply, keepAlive: keepAlive, context: context)
                    return
                }
                write(head, keepAlive: keepAlive, context: context)
                finished(reply, bytes: 0)
                return
            }
            let file = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor)
            // The head goes out in a segment of its own. TCP_CORK (nginx's tcp_nopush) would join
            // them at the price of two setsockopt calls per zip (docs/measurements.md: not worth it).
            context.write(wrapOutboundOut(.byteBuffer(head)), promise: nil)
            // In pieces, each written as one sendfile region: each piece that
            // leaves is progress the send deadline sees, however large the file.
            let size = Int(hit.size)
            var sent: EventLoopFuture<Void>?
            for start in stride(from: 0, to: size, by: Self.filePiece) {
                let region = FileRegion(fileHandle: file, readerIndex: start, endIndex: min(size, start + Self.filePiece))
                let piece = context.write(wrapOutboundOut(.fileRegion(region)))
                watchSend(piece, context: context)
                sent = piece
            }
            context.flush()
            let watch = watchForShrinking(file, hit: hit, context: context)
            // Writes complete in order (a failed one fails those after it): the last is the end.
            sent!.whenComplete { _ in
                watch?.cancel()
                try? file.close()
                // The group stays pinned (its space accounted) until the last byte left.
                withExtendedLifetime(hit) {}
            }
            finished(reply, bytes: hit.size)
            endResponse(after: sent!, keepAlive: keepAlive, context: context)
        case .stream(let box):
            stream(
                Chunks(box.chunks), length: nil, version: version, sendsBody: sendsBody, reply: reply, keepAlive: keepAlive,
                context: context)
        case .relay(let reader):
            stream(
                Chunks(reader), length: reader.length, version: version, sendsBody: sendsBody, reply: reply,
                keepAlive: keepAlive, context: context)
        }
    }

    /// A cached file goes out in pieces of this many bytes.
    static let filePiece = 1 << 20
    /// Cached files up to this size are read into their head's buffer rather than sent with sendfile.
    static let fileJoinedToHead: Int64 = 32 << 10

    /// Appends the whole of `hit` to `buffer` if the page cache has it all
    /// now; false (and `buffer` unchanged) when it would wait for the disk,
    /// or the file is shorter than it was.
    static func append(_ hit: CacheHit, to buffer: inout ByteBuffer) -> Bool {
        let size = Int(hit.size)
        let written = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { space in
            let target = UnsafeMutableRawBufferPointer(rebasing: space[..<size])
            guard case .read(let count)? = try? hit.readWithoutWaiting(at: 0, into: target), count == size else { return 0 }
            return size
        }
        return written == size
    }

    /// Hands a complete response over. A connection kept open goes on with
    /// the next request once the channel can write again (NIO keeps the
    /// order; the state machine reads nothing while it cannot write); one
    /// that closes waits for the bytes to leave first.
    private func write(_ buffer: ByteBuffer, keepAlive: Bool, context: ChannelHandlerContext) {
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
            perform(machine.responseEnded(), context: context)
        } else {
            let written = context.writeAndFlush(wrapOutboundOut(.byteBuffer(buffer)))
            watchSend(written, context: context)
            endResponse(after: written, keepAlive: false, context: context)
        }
    }

    func endResponse(after written: EventLoopFuture<Void>, keepAlive: Bool, context: ChannelHandlerContext) {
        if keepAlive {
            perform(machine.responseEnded(), context: context)
            return
        }
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        written.whenComplete { _ in
            let (handler, context) = bound.value
            handler.perform(handler.machine.responseEnded(), context: context)
        }
    }

    /// A cached file that shrinks while it is sent would leave sendfile
    /// sending nothing, forever: for files that take a while, look every
    /// second, and treat a shorter file as damage.
    private func watchForShrinking(_ file: NIOFileHandle, hit: CacheHit, context: ChannelHandlerContext) -> RepeatedTask? {
        guard hit.size > 1 << 20 else { return nil }
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        return context.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { task in
            let size = try? file.withUnsafeFileDescriptor { descriptor -> Int64 in
                var status = stat()
                return fstat(descriptor, &status) == 0 ? Int64(status.st_size) : -1
            }
            guard let size, size < hit.size else { return }
            task.cancel()
            let (handler, context) = bound.value
            handler.logger.warning("a cached file shrank while it was sent: removed", metadata: ["file": "\(hit.key)"])
            handler.proxy.store.removeDamaged(hit.key)
            handler.perform(.close, context: context)
        }
    }

    /// Sends a body produced as it goes (the agent's progress lines, a
    /// relayed upstream body): with its length when known, else chunked
    /// (HTTP/1.1) or ended by closing (HTTP/1.0); a chunk whenever the client
    /// can take one. A body that fails midway cuts the connection, so the
    /// client sees it incomplete rather than whole.
    private func stream(
        _ chunks: Chunks, length: Int64?, version: HTTPVersion, sendsBody: Bool, reply: AgentReply, keepAlive: Bool,
        context: ChannelHandlerContext
    ) {
        let chunked = length == nil && version.minor >= 1
        let keepAlive = keepAlive && (length != nil || chunked)
        var head = context.channel.allocator.buffer(capacity: ResponseHeadWriter.capacity(for: reply))
        ResponseHeadWriter.write(
            version: version, answer: reply, contentLength: length, keepAlive: keepAlive, chunked: chunked, into: &head)
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(head)), promise: nil)
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        // Lives as long as the body: it ends when the producer finishes.
        Task {
            var sent: Int64 = 0
            defer { chunks.close() }
            while sendsBody {
                let next: [UInt8]?
                do {
                    next = try await chunks.next()
                } catch {
                    let total = sent
                    loop.execute {
                        let (handler, context) = bound.value
                        handler.logger.warning("a relayed body failed midway: cutting the connection", metadata: ["error": "\(error)"])
                        handler.cutMidway(reply, bytes: total, context: context)
                    }
                    return
                }
                guard let chunk = next else { break }
                if chunk.isEmpty { continue }
                sent += Int64(chunk.count)
                // Settled true once the client can take more, false once it is gone.
                let taken = Settlement<Bool>()
                loop.execute {
                    let (handler, context) = bound.value
                    guard context.channel.isActive else {
                        taken.settle(false)
                        return
                    }
                    var buffer = context.channel.allocator.buffer(capacity: chunk.count + 16)
                    if chunked { buffer.writeString(String(chunk.count, radix: 16) + "\r\n") }
                    buffer.writeBytes(chunk)
                    if chunked { buffer.writeStaticString("\r\n") }
                    handler.watchSend(context.writeAndFlush(handler.wrapOutboundOut(.byteBuffer(buffer))), context: context)
                    if context.channel.isWritable {
                        taken.settle(true)
                    } else {
                        handler.writabilityWaiters.append { _ = taken.settle(true) }
                    }
                }
                let open = await taken.value(orWhenCancelled: false)
                // The client went away: nobody takes the rest (closing the chunks stops their producer).
                if !open { break }
            }
            let total = sent
            loop.execute {
                let (handler, context) = bound.value
                var buffer = context.channel.allocator.buffer(capacity: 8)
                if chunked && sendsBody { buffer.writeStaticString("0\r\n\r\n") }
                let written = context.writeAndFlush(handler.wrapOutboundOut(.byteBuffer(buffer)))
                handler.watchSend(written, context: context)
                handler.finished(reply, bytes: total)
                handler.endResponse(after: written, keepAlive: keepAlive, context: context)
            }
        }
    }

    /// Logs and counts a response.
    func finished(_ reply: AgentReply, bytes: Int64) {
        guard current.number > 0 else { return }
        if logsRequests {
            AccessLog.record(
                request: current.head, answer: reply, bytes: bytes, started: current.started,
                client: client, user: user, kind: current.kind, resource: current.resource, logger: logger)
        }
        statistics.record(reply.outcome, kind: current.kind, bytes: bytes)
        if reply.outcome == .denied { RefusalMetrics.count(.policy) }
        if reply.upstreamDuration != nil { activity.touch() }
    }
}

/// Response bytes that need no channel: a head and a small body in one buffer.
enum ResponseWriting {
    /// `body` is the reply's own bytes (or none for HEAD): the caller has them at hand, and every look
    /// into the reply's body enum copies it.
    static func bytes(
        of reply: AgentReply, body: [UInt8], length: Int, version: HTTPVersion, keepAlive: Bool, allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: ResponseHeadWriter.capacity(for: reply) + body.count)
        ResponseHeadWriter.write(
            version: version, answer: reply, contentLength: Int64(length), keepAlive: keepAlive, into: &buffer)
        buffer.writeBytes(body)
        return buffer
    }
}

/// Where a streamed body's chunks come from: the agent's own stream, or a relay.
struct Chunks: Sendable {
    private let take: @Sendable () async throws -> [UInt8]?
    private let stop: @Sendable () -> Void

    init(_ stream: AsyncStream<[UInt8]>) {
        let box = IteratorBox(stream.makeAsyncIterator())
        take = { await box.next() }
        stop = {}
    }

    init(_ reader: RelayReader) {
        take = { try await reader.next() }
        stop = { reader.close() }
    }

    func next() async throws -> [UInt8]? { try await take() }
    func close() { stop() }
}

/// An async iterator used by one task at a time (the stream's writer).
private final class IteratorBox: @unchecked Sendable {
    private var iterator: AsyncStream<[UInt8]>.AsyncIterator
    init(_ iterator: AsyncStream<[UInt8]>.AsyncIterator) { self.iterator = iterator }
    func next() async -> [UInt8]? { await iterator.next() }
}
