import Foundation
import LRUCache
import NIOCore
import NIOEmbedded
import ProxyTestSupport
import Testing

@testable import AgentServer

/// Cached files over TLS (no sendfile): read on the event loop while the
/// page cache holds them, on the blocking pool when it does not, a piece
/// whenever the client can take one.
@Suite struct CachedFileOverTLSTests {
    private static let request = "GET /example.com/m/@v/v1.0.0.zip HTTP/1.1\r\nHost: x\r\n\r\n"

    private static func cachedZip(_ connection: ConnectionHandlerTests.Connection, size: Int) async throws -> [UInt8] {
        let zip = try ConnectionHandlerTests.zipOfNoise(size)
        connection.harness.upstream.script("example.com/m/@v/v1.0.0.zip", .init(body: zip))
        let answer = await connection.harness.proxy.answer(.zip(try .init("example.com/m"), try .init("v1.0.0")))
        #expect(answer.cacheStatus == .miss)
        return zip
    }

    private static func zipFile(_ connection: ConnectionHandlerTests.Connection) throws -> String {
        let data = connection.harness.folder.path + "/data"
        return data + "/" + (try #require(FileManager.default.subpaths(atPath: data)?.first { $0.hasSuffix("/zip") }))
    }

    /// The body that follows the head, once `count` bytes of it are in.
    private static func body(_ connection: ConnectionHandlerTests.Connection, count: Int) async throws -> [UInt8] {
        var received: [UInt8] = []
        while true {
            let data = try await connection.channel.waitForOutboundWrite(as: IOData.self)
            guard case .byteBuffer(let buffer) = data else {
                Issue.record("a file region was written to a TLS connection")
                return []
            }
            received += buffer.readableBytesView
            if let end = received.firstRange(of: Array("\r\n\r\n".utf8)), received.count - end.upperBound >= count {
                return Array(received[end.upperBound...])
            }
        }
    }

    /// Bytes the page cache does not hold are read on the pool, and the
    /// file still comes whole.
    @Test(.timeLimit(.minutes(1))) func aFileNotInMemoryIsReadOnThePoolAndComesWhole() async throws {
        let connection = try await ConnectionHandlerTests.Connection(encrypted: true)
        let zip = try await Self.cachedZip(connection, size: 600_000)
        // Committed files are synced: their pages are clean, and can be dropped.
        let fd = open(try Self.zipFile(connection), O_RDONLY)
        #expect(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0)
        close(fd)
        let before = HTTPConnectionHandler.piecesReadOnPool.load(ordering: .relaxed)
        try await connection.send(Self.request)
        #expect(try await Self.body(connection, count: zip.count) == zip)
        #expect(HTTPConnectionHandler.piecesReadOnPool.load(ordering: .relaxed) > before)
    }

    /// A file that shrinks while it is sent fails the body (the connection
    /// is cut, never padded or spun on) and leaves the cache.
    @Test(.timeLimit(.minutes(1))) func aFileThatShrinksMidwayIsCutAndRemoved() async throws {
        let connection = try await ConnectionHandlerTests.Connection(encrypted: true)
        _ = try await Self.cachedZip(connection, size: 1_000_000)
        let channel = connection.channel
        try await channel.pipeline.addHandler(WritabilityGate(), position: .first)
        try await connection.send(Self.request)
        try await connection.waitForBytes(atLeast: 64 << 10)
        // The client took a piece and waits; meanwhile the file loses its end.
        #expect(truncate(try Self.zipFile(connection), 1000) == 0)
        channel.isWritable = true
        try await channel.testingEventLoop.executeInContext { channel.pipeline.fireChannelWritabilityChanged() }
        let line = await connection.log.line(containing: "shrank")
        #expect(line.contains("removed"), "\(line)")
        try await channel.closeFuture.get()
        await connection.harness.store.deletionsFinished()
        #expect(connection.harness.store.groups().isEmpty)
    }
}
