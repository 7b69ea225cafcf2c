import Foundation
import LRUCache
import Logging
import Testing
import TestSupport

@testable import AgentServer

/// Cached files sent over TLS are read a piece at a time (no sendfile).
@Suite struct CachedFileChunksTests {
    private let key = try! CacheKey(group: "example.com/m@v1.0.0", name: "zip")

    private func stored(_ bytes: [UInt8], in folder: TemporaryDirectory) async throws -> DiskCache {
        let cache = try DiskCache.open(configuration: .init(directory: folder.path, maxSize: 16 << 20))
        let writer = try cache.makeWriter(for: key, expectedSize: Int64(bytes.count))
        try writer.write(bytes)
        _ = try await writer.commit()
        return cache
    }

    @Test func aFileComesWholeInPieces() async throws {
        let folder = TemporaryDirectory()
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let cache = try await stored(bytes, in: folder)
        let chunks = Chunks(try #require(cache.lookup(key)), store: cache, logger: Logger(label: "test"))
        var received: [UInt8] = []
        var pieces = 0
        while let piece = try await chunks.next() {
            received += piece
            pieces += 1
        }
        chunks.close()
        #expect(received == bytes)
        #expect(pieces == 4)
    }

    /// A file that shrinks while it is sent fails the body (the connection
    /// is cut, never padded or spun on) and leaves the cache.
    @Test func aFileThatShrinksMidwayFailsAndIsRemoved() async throws {
        let folder = TemporaryDirectory()
        let cache = try await stored([UInt8](repeating: 9, count: 200_000), in: folder)
        let chunks = Chunks(try #require(cache.lookup(key)), store: cache, logger: Logger(label: "test"))
        #expect(try await chunks.next()?.count == 64 << 10)
        let data = folder.path + "/data"
        let file = try #require(FileManager.default.subpaths(atPath: data)?.first { $0.hasSuffix("zip") })
        #expect(truncate(data + "/" + file, 1000) == 0)
        await #expect(throws: CachedFileShrank.self) { _ = try await chunks.next() }
        chunks.close()
        await cache.deletionsFinished()
        #expect(cache.groups().isEmpty)
    }
}
