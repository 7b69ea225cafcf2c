import Logging
import ModuleProxy
import NIOCore
import NIOEmbedded
import NIOHTTP1
import ProxyTestSupport
import Synchronization
import Testing

@testable import AgentServer

/// The connection handler fed raw bytes, as SwiftNIO's own ContentLengthTests
/// do: exactly what a client sends, exactly what the handler writes back.
/// The proxy behind it runs over a scripted upstream, and time is the test
/// channel's own, moved on by the test.
@Suite struct ConnectionHandlerTests {
    /// A connected test channel with the handler, a proxy over a scripted upstream, and a read counter.
    struct Connection {
        let channel: NIOAsyncTestingChannel
        let harness: ProxyHarness
        let reads: ReadCounter

        /// What the handler logged (its access lines, at info level).
        let log = CapturedLog()

        init(
            controlHosts: [HostPattern] = [], endpoints: any AgentEndpointServing = TestEndpoints(), encrypted: Bool = false,
            harness: ProxyHarness? = nil
        ) async throws {
            self.harness = try harness ?? ProxyHarness()
            let log = self.log
            let context = HTTPServer.Context(
                proxy: self.harness.proxy, endpoints: endpoints, statistics: ServerStatistics(), activity: ActivityTracker(),
                logger: Logger(label: "test", factory: { _ in log }), admission: Admission(controlHosts: controlHosts))
            channel = NIOAsyncTestingChannel()
            reads = ReadCounter()
            try await channel.pipeline.addHandler(reads)
            // Made on the channel's loop, where it lives: the handler is not Sendable.
            try await channel.testingEventLoop.executeInContext { [channel] in
                try channel.pipeline.syncOperations.addHandler(
                    HTTPConnectionHandler(context: context, routes: RouteMemo(), encrypted: encrypted))
            }
            try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40000))
        }

        func send(_ text: String) async throws {
            try await channel.writeInbound(ByteBuffer(string: text))
        }

        /// Everything written so far, as text.
        func written() async throws -> String {
            var text = ""
            while let data = try await channel.readOutbound(as: IOData.self) {
                if case .byteBuffer(var buffer) = data { text += buffer.readString(length: buffer.readableBytes) ?? "" }
            }
            return text
        }

        /// Waits for the next write (an answer that comes from off the event loop).
        func nextWrite() async throws -> String {
            let data = try await channel.waitForOutboundWrite(as: IOData.self)
            guard case .byteBuffer(var buffer) = data else { return "<file>" }
            return (buffer.readString(length: buffer.readableBytes) ?? "") + (try await written())
        }

        /// Waits until the handler has written at least `count` bytes.
        func waitForBytes(atLeast count: Int) async throws {
            var written = 0
            while written < count {
                if case .byteBuffer(let buffer) = try await channel.waitForOutboundWrite(as: IOData.self) {
                    written += buffer.readableBytes
                }
            }
        }

        func cacheModFile() async {
            harness.upstream.script("example.com/m/@v/v1.0.0.mod", .init(body: Array("module example.com/m\n".utf8)))
            _ = await harness.proxy.answer(.mod(try! .init("example.com/m"), try! .init("v1.0.0")))
        }
    }

    /// example.com/m v1.0.0's zip with `count` characters that do not
    /// compress, so that it spans several reads of its file.
    static func zipOfNoise(_ count: Int) throws -> [UInt8] {
        var state: UInt32 = 1
        let noise = String((0..<count).map { _ -> Character in
            state = state &* 1_103_515_245 &+ 12_345
            return Character(UnicodeScalar(UInt8(33 + (state >> 16) % 90)))
        })
        return try ZipMaker.module("example.com/m", "v1.0.0", files: [("go.mod", ""), ("noise.txt", noise)])
    }

    static let modRequest = "GET /example.com/m/@v/v1.0.0.mod HTTP/1.1\r\nHost: x\r\n\r\n"
    static let modResponse =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 21\r\nX-Cache: hit\r\n\r\nmodule example.com/m\n"

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let connection = try await Connection()
        await connection.cacheModFile()
        try await connection.send(Self.modRequest + Self.modRequest.replacingOccurrences(of: "GET", with: "HEAD"))
        let written = try await connection.written()
        let headOnly = Self.modResponse.replacingOccurrences(of: "module example.com/m\n", with: "")
        #expect(written == Self.modResponse + headOnly)
        #expect(try await connection.channel.isActive)
    }

    /// A small cached file goes out with its head in one write (one segment,
    /// one system call); a larger one as its head, then the file by sendfile.
    @Test func aSmallCachedZipGoesOutWithItsHeadInOneWrite() async throws {
        for (size, joined) in [(2_000, true), (100_000, false)] {
            let connection = try await Connection()
            let zip = try Self.zipOfNoise(size)
            connection.harness.upstream.script("example.com/m/@v/v1.0.0.zip", .init(body: zip))
            _ = await connection.harness.proxy.answer(.zip(try .init("example.com/m"), try .init("v1.0.0")))
            try await connection.send("GET /example.com/m/@v/v1.0.0.zip HTTP/1.1\r\nHost: x\r\n\r\n")
            let first = try await connection.channel.waitForOutboundWrite(as: IOData.self)
            guard case .byteBuffer(let buffer) = first else {
                Issue.record("the head was not written first")
                continue
            }
            let bytes = Array(buffer.readableBytesView)
            let end = try #require(bytes.firstRange(of: Array("\r\n\r\n".utf8)))
            #expect(String(decoding: bytes[..<end.lowerBound], as: UTF8.self).contains("Content-Length: \(zip.count)"))
            if joined {
                #expect(Array(bytes[end.upperBound...]) == zip, "size \(size)")
            } else {
                #expect(end.upperBound == bytes.count, "size \(size): the head alone")
                let next = try await connection.channel.waitForOutboundWrite(as: IOData.self)
                guard case .fileRegion = next else {
                    Issue.record("size \(size): the file was not sent with sendfile")
                    continue
                }
            }
        }
    }

    /// Under TLS a cached zip goes out as bytes read from its file (TLS
    /// cannot take a file region), whole, with its length.
    @Test func aCachedZipGoesOutAsBytesOverTLS() async throws {
        let connection = try await Connection(encrypted: true)
        let zip = try Self.zipOfNoise(150_000)
        #expect(zip.count > 100_000)
        connection.harness.upstream.script("example.com/m/@v/v1.0.0.zip", .init(body: zip))
        _ = await connection.harness.proxy.answer(.zip(try .init("example.com/m"), try .init("v1.0.0")))
        try await connection.send("GET /example.com/m/@v/v1.0.0.zip HTTP/1.1\r\nHost: x\r\n\r\n")
        var received: [UInt8] = []
        while received.count < zip.count + 60 {
            let data = try await connection.channel.waitForOutboundWrite(as: IOData.self)
            guard case .byteBuffer(let buffer) = data else {
                Issue.record("a file region was written to a TLS connection")
                return
            }
            received += buffer.readableBytesView
            if let end = received.firstRange(of: Array("\r\n\r\n".utf8)), received.count - end.upperBound >= zip.count { break }
        }
        let end = try #require(received.firstRange(of: Array("\r\n\r\n".utf8)))
        let head = String(decoding: received[..<end.lowerBound], as: UTF8.self)
        #expect(head.contains("Content-Length: \(zip.count)"), "\(head)")
        #expect(head.contains("X-Cache: hit"), "\(head)")
        #expect(Array(received[end.upperBound...]) == zip)
    }

    /// A client that goes away in the middle of a body read from a file
    /// (TLS) stops the reading: the rest of the file is not read for nobody.
    @Test(.timeLimit(.minutes(1))) func aClientLeavingMidBodyStopsTheReading() async throws {
        let connection = try await Connection(encrypted: true)
        let zip = try Self.zipOfNoise(1_000_000)
        connection.harness.upstream.script("example.com/m/@v/v1.0.0.zip", .init(body: zip))
        _ = await connection.harness.proxy.answer(.zip(try .init("example.com/m"), try .init("v1.0.0")))
        // The client takes the first piece and no more.
        try await connection.channel.pipeline.addHandler(WritabilityGate(), position: .first)
        try await connection.send("GET /example.com/m/@v/v1.0.0.zip HTTP/1.1\r\nHost: x\r\n\r\n")
        try await connection.waitForBytes(atLeast: 64 << 10)
        try await connection.channel.close()
        let line = await connection.log.line(containing: "v1.0.0.zip 200")
        let sent = Int(line.split(separator: " ").first { $0.hasPrefix("bytes=") }?.dropFirst(6) ?? "") ?? -1
        #expect(sent > 0 && sent < zip.count / 2, "\(line); the zip has \(zip.count) bytes")
    }

    @Test func connectionCloseIsHonoured() async throws {
        let connection = try await Connection()
        await connection.cacheModFile()
        try await connection.send("GET /example.com/m/@v/v1.0.0.mod HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let written = try await connection.written()
        #expect(written.contains("\r\nConnection: close\r\n"))
        try await connection.channel.closeFuture.get()
    }

    /// A miss is answered from off the event loop; the next pipelined request waits for it.
    @Test func aMissIsAnsweredThenTheNextRequest() async throws {
        let connection = try await Connection()
        connection.harness.upstream.script("example.com/m/@v/list", .init(body: Array("v1.0.0\n".utf8)))
        try await connection.send(
            "GET /example.com/m/@v/list HTTP/1.1\r\nHost: x\r\n\r\nGET /example.com/m/@v/list HTTP/1.1\r\nHost: x\r\n\r\n")
        var written = try await connection.nextWrite()
        while written.components(separatedBy: "HTTP/1.1 200").count < 3 { written += try await connection.nextWrite() }
        #expect(written.contains("X-Cache: miss") && written.contains("X-Cache: hit"))
        #expect(written.range(of: "X-Cache: miss")!.lowerBound < written.range(of: "X-Cache: hit")!.lowerBound)
    }

    /// While a response is being produced, the handler asks the channel for nothing more.
    @Test func noReadsWhileAResponseIsOut() async throws {
        let connection = try await Connection()
        connection.harness.upstream.script("example.com/m/@v/list", .init(body: Array("v1.0.0\n".utf8)))
        connection.harness.upstream.hold()
        let before = connection.reads.count
        try await connection.send("GET /example.com/m/@v/list HTTP/1.1\r\nHost: x\r\n\r\n")
        await connection.harness.upstream.waitForRequests(1)
        connection.channel.pipeline.read()
        #expect(connection.reads.count == before)
        connection.harness.upstream.release()
        _ = try await connection.nextWrite()
        #expect(connection.reads.count > before)
    }

    /// A client that does not take its answers (the channel cannot write)
    /// gets none of its pipelined requests answered, and nothing more read,
    /// until it does.
    @Test func nothingIsReadOrAnsweredWhileTheClientTakesNothing() async throws {
        let connection = try await Connection()
        await connection.cacheModFile()
        connection.channel.isWritable = false
        connection.channel.pipeline.fireChannelWritabilityChanged()
        let before = connection.reads.count
        try await connection.send(Self.modRequest + Self.modRequest)
        connection.channel.pipeline.read()
        #expect(try await connection.written() == "")
        #expect(connection.reads.count == before)
        connection.channel.isWritable = true
        connection.channel.pipeline.fireChannelWritabilityChanged()
        #expect(try await connection.written() == Self.modResponse + Self.modResponse)
        #expect(connection.reads.count > before)
    }

    /// An answer the client takes none of, for the head timeout: the
    /// connection is closed, and what the answer held is let go.
    @Test func aClientThatTakesNothingForTheHeadTimeoutIsClosed() async throws {
        let connection = try await Connection()
        await connection.cacheModFile()
        try await connection.send(Self.modRequest)
        #expect(try await connection.written() == Self.modResponse)
        connection.channel.isWritable = false
        connection.channel.pipeline.fireChannelWritabilityChanged()
        await connection.channel.testingEventLoop.advanceTime(by: .seconds(19))
        #expect(try await connection.channel.isActive)
        await connection.channel.testingEventLoop.advanceTime(by: .seconds(2))
        #expect(try await !connection.channel.isActive)
    }

    @Test func malformedRequestsAreAnsweredAndTheConnectionCloses() async throws {
        for request in [
            "GET /a HTTP/1.1\r\n\r\n",  // no Host
            "POST /-/prefetch HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
            "GET /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        ] {
            let connection = try await Connection()
            try await connection.send(request)
            let written = try await connection.written()
            #expect(written.hasPrefix("HTTP/1.1 4"), "\(request): \(written)")
            #expect(written.contains("Connection: close"))
            try await connection.channel.closeFuture.get()
        }
    }

    /// Who asks, and what for, is checked on the head: a body from a peer that
    /// may not use the control API is never read.
    @Test func aBodyFromAnUntrustedPeerIsRefusedBeforeItIsRead() async throws {
        let endpoints = TestEndpoints()
        let connection = try await Connection(controlHosts: [], endpoints: endpoints)
        try await connection.send("POST /-/api/cache/list HTTP/1.1\r\nHost: x\r\nContent-Length: 67108864\r\n\r\n")
        let written = try await connection.written()
        #expect(written.hasPrefix("HTTP/1.1 403 Forbidden\r\n"))
        #expect(written.contains("Connection: close"))
        try await connection.channel.closeFuture.get()
        #expect(endpoints.bodiesRead == 0)
    }

    @Test func aBodyLongerThanTheEndpointTakesIsRefused() async throws {
        let endpoints = TestEndpoints()
        let connection = try await Connection(controlHosts: [HostPattern(parsing: "127.0.0.1")!], endpoints: endpoints)
        try await connection.send("POST /-/api/cache/list HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n")
        #expect(try await connection.written().hasPrefix("HTTP/1.1 413 "))
        try await connection.channel.closeFuture.get()
        #expect(endpoints.bodiesRead == 0)
    }

    @Test func aClientThatExpectsContinueGetsItThenTheAnswer() async throws {
        let endpoints = TestEndpoints()
        let connection = try await Connection(controlHosts: [HostPattern(parsing: "127.0.0.1")!], endpoints: endpoints)
        try await connection.send("POST /-/api/cache/list HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        #expect(try await connection.nextWrite() == "HTTP/1.1 100 Continue\r\n\r\n")
        try await connection.send("hello")
        let answer = try await connection.nextWrite()
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n") && answer.hasSuffix("read 5 bytes\n"))
    }

    @Test func aHeadThatDoesNotArriveInTimeGets408() async throws {
        let connection = try await Connection()
        try await connection.send("GET /example.com/m/@v/list HT")
        await connection.channel.testingEventLoop.advanceTime(by: .seconds(21))
        let written = try await connection.written()
        #expect(written.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
        try await connection.channel.closeFuture.get()
    }

    /// No client waits in silence: past the request timeout it gets a 504
    /// with the reason, and the late answer goes nowhere.
    @Test func anAnswerThatTakesTooLongBecomes504() async throws {
        let connection = try await Connection()
        connection.harness.upstream.script("example.com/m/@v/list", .init(body: Array("v1.0.0\n".utf8)))
        connection.harness.upstream.hold()
        try await connection.send("GET /example.com/m/@v/list HTTP/1.1\r\nHost: x\r\n\r\n")
        await connection.harness.upstream.waitForRequests(1)
        await connection.channel.testingEventLoop.advanceTime(by: .minutes(10))
        let written = try await connection.nextWrite()
        #expect(written.hasPrefix("HTTP/1.1 504 Gateway Timeout\r\n"))
        #expect(written.contains("no answer within 600s"))
        connection.harness.upstream.release()
        // The connection goes on with the next request.
        try await connection.send("GET /example.com/m/@v/list HTTP/1.1\r\nHost: x\r\n\r\n")
        let next = try await connection.nextWrite()
        #expect(next.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(!next.contains("504"))
    }

    @Test func aClientThatShutsItsSideStillGetsItsAnswer() async throws {
        let connection = try await Connection()
        await connection.cacheModFile()
        try await connection.send(Self.modRequest)
        connection.channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(try await connection.written() == Self.modResponse)
        try await connection.channel.closeFuture.get()
    }
}

/// A client whose side stops taking bytes after a large write: the
/// channel turns unwritable (the test turns it back by hand).
final class WritabilityGate: ChannelOutboundHandler, Sendable {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .byteBuffer(let buffer) = unwrapOutboundIn(data), buffer.readableBytes >= 64 << 10,
            let channel = context.channel as? NIOAsyncTestingChannel
        {
            channel.isWritable = false
        }
        context.write(data, promise: promise)
    }
}

/// Counts the reads the handler passes on to the channel.
final class ReadCounter: ChannelOutboundHandler, Sendable {
    typealias OutboundIn = Any
    private let reads = Atomic(0)
    var count: Int { reads.load(ordering: .relaxed) }

    func read(context: ChannelHandlerContext) {
        reads.add(1, ordering: .relaxed)
        context.read()
    }
}

/// One control endpoint that reads its body and says how long it was.
final class TestEndpoints: AgentEndpointServing {
    private let read = Atomic(0)
    var bodiesRead: Int { read.load(ordering: .relaxed) }

    func access(path: String) -> Admission.Access? { .control }

    func accept(path: String, method: HTTPMethod) -> AgentEndpoints.Acceptance { .serve(bodyLimit: 1 << 20) }

    func reply(path: String, head: RequestHead, body: RequestBody) async -> AgentReply {
        let bytes = await body.collect()
        read.add(1, ordering: .relaxed)
        return .body(Array("read \(bytes.count) bytes\n".utf8), contentType: "text/plain")
    }
}

/// A log handler that keeps what it is given, at info level and above.
final class CapturedLog: LogHandler, @unchecked Sendable {
    private struct Waiter {
        let text: String
        let continuation: CheckedContinuation<String, Never>
    }
    private let lines = Mutex<(all: [String], waiters: [Waiter])>(([], []))
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let line = "\(event.message)"
        let found = lines.withLock { lines in
            lines.all.append(line)
            let found = lines.waiters.filter { line.contains($0.text) }
            lines.waiters.removeAll { line.contains($0.text) }
            return found
        }
        for waiter in found { waiter.continuation.resume(returning: line) }
    }

    /// The first line containing `text`, once it is logged.
    func line(containing text: String) async -> String {
        await withCheckedContinuation { continuation in
            let logged: String? = lines.withLock { lines in
                if let line = lines.all.first(where: { $0.contains(text) }) { return line }
                lines.waiters.append(Waiter(text: text, continuation: continuation))
                return nil
            }
            if let logged { continuation.resume(returning: logged) }
        }
    }
}
