import Foundation
import LRUCache
import NIOCore
import ProxyTestSupport
import Testing

@testable import AgentServer

/// Whatever kind of answer a request gets, and however its client leaves,
/// the cache's files it opened are closed, the groups it pinned unpinned and
/// the room it reserved given back once the answer is done: counted on the
/// process's open descriptors, the store's pins and its reservations.
@Suite struct AnswerOwnershipTests {
    /// What a connection's answers hold in the store now.
    struct Held: Equatable, CustomStringConvertible {
        var descriptors: Int
        var pins: Int
        var reserved: Int64
        var description: String { "\(descriptors) files open, \(pins) pins, \(reserved) bytes reserved" }
        static let nothing = Held(descriptors: 0, pins: 0, reserved: 0)
    }

    private static func held(_ harness: ProxyHarness) -> Held {
        let folder = "/proc/self/fd"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        // Files under data/ and tmp/ only: the folders themselves and the lock stay open for the store's life.
        let inStore = names.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: folder + "/" + $0) }
            .filter { $0.hasPrefix(harness.folder.path + "/data/") || $0.hasPrefix(harness.folder.path + "/tmp/") }
        return Held(descriptors: inStore.count, pins: harness.store.pinsHeld, reserved: harness.store.statistics().reserved)
    }

    /// Waits (bounded) until nothing is held, draining what the handler writes meanwhile.
    private static func nothingHeld(_ connection: ConnectionHandlerTests.Connection) async throws -> Held {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        var now = held(connection.harness)
        // What is given back goes with the last reference, on whichever thread drops it: look until then.
        while clock.now < deadline && now != .nothing {
            _ = try? await connection.written()
            await Task.yield()
            now = held(connection.harness)
        }
        return now
    }

    private static let zipPath = "example.com/m/@v/v1.0.0.zip"
    private static let zipRequest = "GET /example.com/m/@v/v1.0.0.zip HTTP/1.1\r\nHost: x\r\n\r\n"

    private static func cacheZip(_ connection: ConnectionHandlerTests.Connection, size: Int = 200_000) async throws {
        connection.harness.upstream.script(zipPath, .init(body: try ConnectionHandlerTests.zipOfNoise(size)))
        let answer = await connection.harness.proxy.answer(.zip(try .init("example.com/m"), try .init("v1.0.0")))
        #expect(answer.cacheStatus == .miss)
    }

    @Test func aHitSentWithSendfile() async throws {
        let connection = try await ConnectionHandlerTests.Connection()
        try await Self.cacheZip(connection)
        try await connection.send(Self.zipRequest)
        _ = try await connection.channel.waitForOutboundWrite(as: IOData.self)
        #expect(try await Self.nothingHeld(connection) == .nothing)
    }

    @Test func aHitReadOverTLS() async throws {
        let connection = try await ConnectionHandlerTests.Connection(encrypted: true)
        try await Self.cacheZip(connection)
        try await connection.send(Self.zipRequest)
        _ = try await connection.channel.waitForOutboundWrite(as: IOData.self)
        #expect(try await Self.nothingHeld(connection) == .nothing)
    }

    @Test func aMissFetchedStoredAndSent() async throws {
        let connection = try await ConnectionHandlerTests.Connection()
        connection.harness.upstream.script(Self.zipPath, .init(body: try ConnectionHandlerTests.zipOfNoise(200_000)))
        try await connection.send(Self.zipRequest)
        let head = try await connection.nextWrite()
        #expect(head.contains("X-Cache: miss"), "\(head)")
        #expect(try await Self.nothingHeld(connection) == .nothing)
    }

    /// No room in the cache: the upstream's body is relayed, not stored.
    @Test func aRelayedBody() async throws {
        let connection = try await ConnectionHandlerTests.Connection(harness: try ProxyHarness(maxSize: 64 << 10))
        connection.harness.upstream.script(Self.zipPath, .init(body: try ConnectionHandlerTests.zipOfNoise(300_000)))
        try await connection.send(Self.zipRequest)
        let head = try await connection.nextWrite()
        #expect(head.contains("X-Cache: pass"), "\(head)")
        #expect(try await Self.nothingHeld(connection) == .nothing)
    }

    /// A file that fails its checks: passed to the client as the upstream
    /// sent it, never kept; its temporary file and room given back.
    @Test func aFileThatFailsItsChecks() async throws {
        let connection = try await ConnectionHandlerTests.Connection()
        connection.harness.upstream.script(Self.zipPath, .init(body: Array(repeating: 0x41, count: 100_000)))
        try await connection.send(Self.zipRequest)
        let head = try await connection.nextWrite()
        #expect(head.contains("X-Cache: pass"), "\(head)")
        #expect(try await Self.nothingHeld(connection) == .nothing)
    }

    /// The upstream refuses: its answer is passed on, nothing opened stays open.
    @Test func aRefusalFromTheUpstream() async throws {
        let connection = try await ConnectionHandlerTests.Connection()
        connection.harness.upstream.script(Self.zipPath, .text(404, "not found"))
        try await connection.send(Self.zipRequest)
        let head = try await connection.nextWrite()
        #expect(head.hasPrefix("HTTP/1.1 404"), "\(head)")
        #expect(try await Self.nothingHeld(connection) == .nothing)
    }

    /// The client goes away in the middle of a file read over TLS.
    @Test func aClientGoneInTheMiddleOfAFile() async throws {
        let connection = try await ConnectionHandlerTests.Connection(encrypted: true)
        try await Self.cacheZip(connection, size: 1_000_000)
        try await connection.send(Self.zipRequest)
        _ = try await connection.channel.waitForOutboundWrite(as: IOData.self)
        _ = try await connection.channel.waitForOutboundWrite(as: IOData.self)
        try await connection.channel.close()
        #expect(try await Self.nothingHeld(connection) == .nothing)
    }

    /// The client goes away in the middle of a relayed body.
    @Test func aClientGoneInTheMiddleOfARelay() async throws {
        let connection = try await ConnectionHandlerTests.Connection(harness: try ProxyHarness(maxSize: 64 << 10))
        connection.harness.upstream.script(Self.zipPath, .init(body: try ConnectionHandlerTests.zipOfNoise(2_000_000)))
        try await connection.send(Self.zipRequest)
        _ = try await connection.channel.waitForOutboundWrite(as: IOData.self)
        try await connection.channel.close()
        #expect(try await Self.nothingHeld(connection) == .nothing)
    }
}
