import Foundation
import Synchronization
import Testing

@testable import LRUCache
import TestSupport

@Suite struct DiskCacheTests {
    private func key(_ group: String, _ name: String = "zip") -> CacheKey { try! CacheKey(group: group, name: name) }

    private func store(_ cache: DiskCache, _ key: CacheKey, bytes: Int, fill: UInt8 = 7) async throws -> CacheHit {
        let writer = try cache.makeWriter(for: key, expectedSize: Int64(bytes))
        try writer.write([UInt8](repeating: fill, count: bytes))
        return try await writer.commit()
    }

    @Test func aFileIsVisibleOnlyOnceCommitted() async throws {
        let folder = TemporaryDirectory()
        let cache = try DiskCache.open(configuration: .init(directory: folder.path, maxSize: 1 << 20))
        let key = key("example.com/m/@v/v1.0.0")
        let writer = try cache.makeWriter(for: key, expectedSize: nil)
        try writer.write(Array("hello".utf8))
        #expect(cache.lookup(key) == nil)
        #expect(folder.files(under: "data").isEmpty)

        let committed = try await writer.commit()
        #expect(committed.isStored)
        _ = consume committed
        let hit = try #require(cache.lookup(key))
        #expect(try hit.readAll() == Array("hello".utf8))
        #expect(hit.size == 5)
        #expect(folder.files(under: "tmp").isEmpty)
    }

    @Test func anAbandonedWriteLeavesNothing() async throws {
        let folder = TemporaryDirectory()
        let cache = try DiskCache.open(configuration: .init(directory: folder.path, maxSize: 1 << 20))
        let before = cache.statistics().diskUsage
        do {
            let writer = try cache.makeWriter(for: key("g"), expectedSize: 100_000)
            try writer.write([UInt8](repeating: 1, count: 50_000))
            #expect(cache.statistics().reserved > 0)
            writer.abandon()
        }
        do {
            // Dropped without commit or abandon: the same.
            let writer = try cache.makeWriter(for: key("h"), expectedSize: nil)
            try writer.write([UInt8](repeating: 1, count: 10))
        }
        #expect(cache.lookup(key("g")) == nil)
        #expect(cache.lookup(key("h")) == nil)
        #expect(folder.files(under: "tmp").isEmpty)
        #expect(cache.statistics().reserved == 0)
        #expect(cache.statistics().diskUsage == before)
    }

    @Test func neverUsesMoreThanItsLimitAndEvictsLeastRecentlyUsed() async throws {
        let folder = TemporaryDirectory()
        let limit: Int64 = 160 * 1024
        let cache = try DiskCache.open(configuration: .init(directory: folder.path, maxSize: limit))
        for index in 0..<4 {
            _ = try await store(cache, key("m\(index)"), bytes: 20_000)
        }
        // m0 is used again, so m1 is now the least recently used.
        _ = cache.lookup(key("m0"))
        for index in 4..<12 {
            _ = try await store(cache, key("m\(index)"), bytes: 20_000)
            #expect(cache.statistics().diskUsage <= limit)
            await cache.deletionsFinished()
            #expect(folder.diskUsage() <= limit)
        }
        let survivors = Set(cache.groups().map(\.name))
        #expect(survivors.contains("m11"))
        #expect(!survivors.contains("m1"))
        #expect(cache.statistics().evictions > 0)
        // The index agrees with the disk.
        await cache.deletionsFinished()
        #expect(cache.statistics().diskUsage == folder.diskUsage())
    }

    @Test func theEvictionUnitIsTheWholeGroup() async throws {
        let folder = TemporaryDirectory()
        let cache = try DiskCache.open(configuration: .init(directory: folder.path, maxSize: 100 * 1024))
        for name in ["info", "mod", "zip"] {
            _ = try await store(cache, key("a@v1", name), bytes: 3000)
        }
        _ = try await store(cache, key("b@v1"), bytes: 3000)
        _ = try await store(cache, key("c@v1"), bytes: 60_000)
        let groups = cache.groups().map(\.name)
        #expect(!groups.contains("a@v1"))
        #expect(groups.contains("c@v1"))
        for name in ["info", "mod", "zip"] { #expect(cache.lookup(key("a@v1", name)) == nil) }
    }

    @Test func aGroupBeingReadIsNotEvicted() async throws {
        let folder = TemporaryDirectory()
        let cache = try DiskCache.open(configuration: .init(directory: folder.path, maxSize: 80 * 1024))
        _ = try await store(cache, key("old"), bytes: 20_000, fill: 1)
        _ = try await store(cache, key("newer"), bytes: 20_000, fill: 2)
        let reading = try #require(cache.lookup(key("old")))
        _ = cache.lookup(key("newer"))
        // "old" is now the most recently used anyway; use "newer" last so "old" would be the victim if unpinned.
        _ = cache.lookup(key("newer"))
        _ = try await store(cache, key("third"), bytes: 30_000, fill: 3)
        let groups = Set(cache.groups().map(\.name))
        #expect(groups.contains("old"))
        #expect(cache.statistics().diskUsage <= 80 * 1024)
        #expect(try reading.readAll() == [UInt8](repeating: 1, count: 20_000))
        _ = consume reading
    }

    @Test func aFileTooLargeForTheStoreIsPassedThroughNotStored() async throws {
        let folder = TemporaryDirectory()
        let cache = try DiskCache.open(configuration: .init(directory: folder.path, maxSize: 64 * 1024))
        _ = try await store(cache, key("small"), bytes: 1000)
        let hit = try await store(cache, key("huge"), bytes: 200_000, fill: 9)
        // The small file was not evicted in vain.
        #expect(cache.lookup(key("small")) != nil)
        #expect(!hit.isStored)
        #expect(try hit.readAll() == [UInt8](repeating: 9, count: 200_000))
        _ = consume hit
        #expect(cache.lookup(key("huge")) == nil)
        #expect(folder.files(under: "tmp").isEmpty)
        #expect(cache.statistics().reserved == 0)
        #expect(folder.diskUsage() <= 64 * 1024)
    }

    @Test func aRemovedFileStaysReadableForAReaderWhoHasItOpen() async throws {
        let folder = TemporaryDirectory()
        let cache = try DiskCache.open(configuration: .init(directory: folder.path, maxSize: 1 << 20))
        _ = try await store(cache, key("g"), bytes: 10_000, fill: 4)
        let hit = try #require(cache.lookup(key("g")))
        #expect(cache.remove(group: "g"))
        #expect(cache.lookup(key("g")) == nil)
        #expect(try hit.readAll() == [UInt8](repeating: 4, count: 10_000))
        // Storing the group again while the old reader still holds it, then
        // letting go of the old one, leaves the new group's pins alone.
        _ = try await store(cache, key("g"), bytes: 10, fill: 5)
        let fresh = try #require(cache.lookup(key("g")))
        _ = consume hit
        #expect(try fresh.readAll() == [UInt8](repeating: 5, count: 10))
        _ = consume fresh
        #expect(cache.lookup(key("g")) != nil)
    }

    @Test func growsItsReservationForWritesOfUnknownLength() async throws {
        let folder = TemporaryDirectory()
        let cache = try DiskCache.open(configuration: .init(directory: folder.path, maxSize: 16 << 20))
        let writer = try cache.makeWriter(for: key("stream"), expectedSize: nil)
        for _ in 0..<48 {
            try writer.write([UInt8](repeating: 6, count: 65_536))
            #expect(cache.statistics().reserved >= writer.bytesWritten)
        }
        let hit = try await writer.commit()
        #expect(hit.isStored && hit.size == 48 * 65_536)
        _ = consume hit
        #expect(cache.statistics().reserved == 0)
        #expect(cache.statistics().diskUsage == folder.diskUsage())
    }

    @Test func replacingAFileKeepsAccountsRight() async throws {
        let folder = TemporaryDirectory()
        let cache = try DiskCache.open(configuration: .init(directory: folder.path, maxSize: 1 << 20))
        _ = try await store(cache, key("m", "list"), bytes: 9000, fill: 1)
        _ = try await store(cache, key("m", "list"), bytes: 100, fill: 2)
        #expect(try cache.lookup(key("m", "list"))?.readAll() == [UInt8](repeating: 2, count: 100))
        #expect(cache.statistics().files == 1)
        #expect(cache.statistics().diskUsage == folder.diskUsage())
    }

    @Test func onlyOneProcessUsesAFolder() async throws {
        let folder = TemporaryDirectory()
        let first = try DiskCache.open(configuration: .init(directory: folder.path, maxSize: 1 << 20))
        #expect(throws: DiskCacheError.self) {
            _ = try DiskCache.open(configuration: .init(directory: folder.path, maxSize: 1 << 20))
        }
        _ = first
    }
}

@Suite struct IndexRebuildTests {
    @Test func filesAreServedWhileTheIndexLoadsAndWritesWaitForIt() async throws {
        let folder = TemporaryDirectory()
        do {
            let cache = try DiskCache.open(configuration: .init(directory: folder.path, maxSize: 1 << 20))
            let writer = try cache.makeWriter(for: key("early"), expectedSize: 5)
            try writer.write(Array("early".utf8))
            _ = try await writer.commit()
        }
        let cache = try DiskCache(configuration: .init(directory: folder.path, maxSize: 1 << 20))
        #expect(!cache.isIndexLoaded)
        #expect(try cache.lookup(key("early"))?.readAll() == Array("early".utf8))
        #expect(cache.lookup(key("absent")) == nil)
        #expect(cache.info(key("early"))?.size == 5)

        // A write starts at once (no thread waits); its commit waits for the index.
        let writer = try cache.makeWriter(for: key("late"), expectedSize: 4)
        try writer.write(Array("late".utf8))
        let committing = Task { try await writer.commit() }
        #expect(!cache.isIndexLoaded)
        cache.loadIndex()
        _ = try await committing.value
        #expect(Set(cache.groups().map(\.name)) == ["early", "late"])
        #expect(cache.statistics().reserved == 0)
        #expect(cache.statistics().diskUsage == folder.diskUsage())
    }

    private func key(_ group: String, _ name: String = "zip") -> CacheKey { try! CacheKey(group: group, name: name) }

    @Test func rebuildsTheIndexAndKeepsLeastRecentlyUsedOrder() async throws {
        let folder = TemporaryDirectory()
        var order: [String] = []
        let clock = StandingClock()
        do {
            let cache = try DiskCache.open(
                configuration: .init(
                    directory: folder.path, maxSize: 1 << 20, accessTimeResolution: .zero,
                    now: { clock.now() }))
            for name in ["a", "b", "c", "d"] {
                let writer = try cache.makeWriter(for: key(name), expectedSize: 1000)
                try writer.write([UInt8](repeating: 1, count: 1000))
                _ = try await writer.commit()
            }
            // Uses a millisecond apart: their order must survive the restart.
            for name in ["b", "d", "a"] {
                clock.advance(byNanoseconds: 1_000_000)
                _ = cache.lookup(key(name))
            }
            order = cache.groups().map(\.name)
            #expect(order == ["a", "d", "b", "c"])
        }
        // The first store lets go of the folder's lock when the last pool
        // thread that worked for it drops it, a moment after the last await.
        let reopened = try DiskCache.open(
            configuration: .init(directory: folder.path, maxSize: 1 << 20, accessTimeResolution: .zero, lockWait: .seconds(10)))
        #expect(reopened.groups().map(\.name) == order)
        #expect(reopened.rebuildReport?.groups == 4)
        #expect(reopened.rebuildReport?.files == 4)
        #expect(reopened.statistics().diskUsage == folder.diskUsage())
        #expect(try reopened.lookup(key("c"))?.readAll().count == 1000)
    }

    /// A file's time comes from outside: one `Int64` nanoseconds cannot
    /// hold (year 3000), or one before 1970, must not trap the index's
    /// rebuild nor the uses that follow.
    @Test func filesWithTimesBeyondWhatNanosecondsHoldAreIndexed() async throws {
        let folder = TemporaryDirectory()
        do {
            let cache = try DiskCache.open(configuration: .init(directory: folder.path, maxSize: 1 << 20))
            for name in ["future", "past"] {
                let writer = try cache.makeWriter(for: key(name), expectedSize: 10)
                try writer.write([UInt8](repeating: 1, count: 10))
                _ = try await writer.commit()
            }
        }
        for (name, seconds) in [("future", 32_503_680_000), ("past", -30_610_224_000)] {
            for file in folder.files(under: "data") where file.contains(name) {
                var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
                #expect(utimensat(AT_FDCWD, folder.path + "/data/" + file, &times, 0) == 0)
            }
        }
        let reopened = try DiskCache.open(
            configuration: .init(directory: folder.path, maxSize: 1 << 20, accessTimeResolution: .zero, lockWait: .seconds(10)))
        #expect(Set(reopened.groups().map(\.name)) == ["future", "past"])
        #expect(try reopened.lookup(key("future"))?.readAll().count == 10)
        #expect(try reopened.lookup(key("past"))?.readAll().count == 10)
    }

    @Test func removesItsOwnLeftoversAndLeavesEverythingElseAlone() async throws {
        let folder = TemporaryDirectory()
        do {
            let cache = try DiskCache.open(configuration: .init(directory: folder.path, maxSize: 1 << 20))
            let writer = try cache.makeWriter(for: key("kept"), expectedSize: 10)
            try writer.write(Array("0123456789".utf8))
            _ = try await writer.commit()
        }
        let data = folder.path + "/data"
        let shard = try #require(try FileManager.default.contentsOfDirectory(atPath: data).first)
        // What a crash mid-write leaves behind: goedge's own, removed.
        _ = FileManager.default.createFile(atPath: folder.path + "/tmp/123-1.part", contents: Data(count: 5000))
        try FileManager.default.createDirectory(atPath: folder.path + "/tmp/123-2.evicted", withIntermediateDirectories: true)
        // What a person (or another program) put there: not goedge's, kept and counted.
        let planted = [
            folder.path + "/tmp/notes.txt", data + "/stray-file", data + "/zz/x", data + "/" + shard + "/not%2fcanonical/file",
        ]
        for path in planted {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: path, contents: Data(count: 10))
        }
        let group = try #require(try FileManager.default.contentsOfDirectory(atPath: data + "/" + shard).first { $0 != "not%2fcanonical" })
        let inGroup = data + "/" + shard + "/" + group + "/.zip.tmp"
        _ = FileManager.default.createFile(atPath: inGroup, contents: Data(count: 10))

        let reopened = try DiskCache.open(configuration: .init(directory: folder.path, maxSize: 1 << 20, lockWait: .seconds(10)))
        #expect(reopened.rebuildReport?.removedLeftovers == 2)
        #expect(reopened.rebuildReport?.foreignEntries == 5)
        for path in planted + [inGroup] { #expect(FileManager.default.fileExists(atPath: path), "\(path)") }
        #expect(try reopened.lookup(key("kept"))?.readAll() == Array("0123456789".utf8))
        #expect(reopened.groups().map(\.name) == ["kept"])
        #expect(reopened.statistics().diskUsage == folder.diskUsage())

        // Evicting the group deletes goedge's files in it, and nothing else.
        #expect(reopened.remove(group: "kept"))
        #expect(FileManager.default.fileExists(atPath: inGroup))
        #expect(reopened.lookup(key("kept")) == nil)
    }

    /// A mistaken --cache-dir (a home folder, a project) is refused whole,
    /// not emptied.
    @Test func refusesAFolderThatIsNotGoedges() throws {
        let folder = TemporaryDirectory()
        for name in ["notes.txt", "tmp/keep.me", "data/mine"] {
            let path = folder.path + "/" + name
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: path, contents: Data("mine".utf8))
        }
        #expect(throws: CacheFolderError.self) { _ = try DiskCache.open(configuration: .init(directory: folder.path, maxSize: 1 << 20)) }
        for name in ["notes.txt", "tmp/keep.me", "data/mine"] {
            #expect(FileManager.default.contents(atPath: folder.path + "/" + name) == Data("mine".utf8))
        }
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/goedge.lock"))
        // An empty folder, or one goedge made, is fine.
        let empty = TemporaryDirectory()
        _ = try DiskCache.open(configuration: .init(directory: empty.path, maxSize: 1 << 20))
    }

    @Test func evictsDownToALoweredLimitAtStart() async throws {
        let folder = TemporaryDirectory()
        do {
            let cache = try DiskCache.open(configuration: .init(directory: folder.path, maxSize: 1 << 20))
            for index in 0..<10 {
                let writer = try cache.makeWriter(for: key("g\(index)"), expectedSize: 20_000)
                try writer.write([UInt8](repeating: 1, count: 20_000))
                _ = try await writer.commit()
            }
        }
        let smaller = try DiskCache.open(configuration: .init(directory: folder.path, maxSize: 100 * 1024, lockWait: .seconds(10)))
        #expect((smaller.rebuildReport?.evictedGroups ?? 0) > 0)
        await smaller.deletionsFinished()
        #expect(folder.diskUsage() <= 100 * 1024)
        #expect(smaller.groups().first?.name == "g9")
    }
}

/// A stored file changed behind goedge's back is damage: never served, never
/// another file's bytes, and its group goes.
@Suite struct DamagedFileTests {
    private func key(_ group: String, _ name: String = "zip") -> CacheKey { try! CacheKey(group: group, name: name) }

    private func stored(_ cache: DiskCache, _ key: CacheKey, _ bytes: [UInt8]) async throws {
        let writer = try cache.makeWriter(for: key, expectedSize: Int64(bytes.count))
        try writer.write(bytes)
        _ = try await writer.commit()
    }

    private func path(_ folder: TemporaryDirectory, _ key: CacheKey) -> String {
        folder.path + "/data/" + key.relativePath
    }

    @Test func aFileThatShrankIsNotServedAndItsGroupGoes() async throws {
        let folder = TemporaryDirectory()
        let cache = try DiskCache.open(configuration: .init(directory: folder.path, maxSize: 1 << 20))
        try await stored(cache, key("g"), [UInt8](repeating: 1, count: 10_000))
        #expect(truncate(path(folder, key("g")), 100) == 0)
        #expect(cache.lookup(key("g")) == nil)
        await cache.deletionsFinished()
        #expect(cache.groups().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: path(folder, key("g"))))
    }

    @Test func aFileReplacedByALinkIsNeverFollowed() async throws {
        let folder = TemporaryDirectory()
        let cache = try DiskCache.open(configuration: .init(directory: folder.path, maxSize: 1 << 20))
        try await stored(cache, key("g"), Array("0123456789".utf8))
        let secret = TemporaryDirectory()
        try secret.write("secret", "0123456789")
        let target = path(folder, key("g"))
        try FileManager.default.removeItem(atPath: target)
        try FileManager.default.createSymbolicLink(atPath: target, withDestinationPath: secret.path + "/secret")
        #expect(cache.lookup(key("g")) == nil)
        #expect(cache.content(key("g"), limit: 100) == nil)
        await cache.deletionsFinished()
        // The link went with its group; what it pointed to did not.
        #expect(secret.read("secret") == "0123456789")
    }
}

/// The store's clock, standing still until a test moves it.
private final class StandingClock: Sendable {
    private let current = Atomic<Int64>(FileSystem.now())

    func now() -> Int64 { current.load(ordering: .relaxed) }

    func advance(byNanoseconds nanoseconds: Int64) { current.add(nanoseconds, ordering: .relaxed) }
}
