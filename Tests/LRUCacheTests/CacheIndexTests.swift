import Testing

@testable import LRUCache

@Suite struct CacheIndexTests {
    private func file(_ name: String, usage: Int64) -> CacheIndex.File {
        CacheIndex.File(name: name, size: usage / 2, diskUsage: usage, storedAt: 0)
    }

    @Test func accountsFilesAndDirectories() {
        var index = CacheIndex()
        index.store(file("mod", usage: 4096), inGroup: "a@v1", directoryUsage: 4096, now: 1)
        index.store(file("zip", usage: 8192), inGroup: "a@v1", directoryUsage: 4096, now: 2)
        #expect(index.diskUsage == 4096 + 4096 + 8192)
        #expect(index.fileCount == 2)
        #expect(index.groupCount == 1)

        // Replacing a file counts only the new one.
        index.store(file("zip", usage: 12288), inGroup: "a@v1", directoryUsage: 4096, now: 3)
        #expect(index.diskUsage == 4096 + 4096 + 12288)
        #expect(index.fileCount == 2)

        let removed = index.removeFile(try! CacheKey(group: "a@v1", name: "zip"))
        #expect(removed?.emptiedGroup == nil)
        #expect(index.diskUsage == 4096 + 4096)
        let last = index.removeFile(try! CacheKey(group: "a@v1", name: "mod"))
        #expect(last?.emptiedGroup?.key == "a@v1")
        #expect(index.diskUsage == 0)
        #expect(index.groupCount == 0)
    }

    @Test func evictsLeastRecentlyUsedFirstAndSkipsPinned() {
        var index = CacheIndex()
        for name in ["a", "b", "c", "d"] {
            index.store(file("zip", usage: 4096), inGroup: name, directoryUsage: 4096, now: 1)
        }
        #expect(index.evictionCandidates().map(\.key) == ["a", "b", "c", "d"])

        _ = index.recordUse(of: "a", now: 2, resolution: 0)
        #expect(index.evictionCandidates().map(\.key) == ["b", "c", "d", "a"])

        let pin = index.pin("b")!
        index.pin("b")
        #expect(index.evictionCandidates().map(\.key) == ["c", "d", "a"])
        index.unpin(pin)
        #expect(index.evictionCandidates().map(\.key) == ["c", "d", "a"])
        index.unpin(pin)
        #expect(index.evictionCandidates().map(\.key) == ["b", "c", "d", "a"])

        // A pin on a group that was removed and stored again does not reach the new one.
        let old = index.pin("c")!
        index.removeGroup("c")
        index.store(file("zip", usage: 4096), inGroup: "c", directoryUsage: 4096, now: 2)
        let fresh = index.pin("c")!
        #expect(fresh != old)
        index.unpin(old)
        #expect(index.group("c")?.pins == 1)
        index.unpin(fresh)
        #expect(index.group("c")?.pins == 0)

        // Nor does one on a group whose slot another group took since.
        let gone = index.pin("c")!
        index.removeGroup("c")
        index.store(file("zip", usage: 4096), inGroup: "e", directoryUsage: 4096, now: 2)
        let other = index.pin("e")!
        #expect(other.slot == gone.slot)
        index.unpin(gone)
        #expect(index.group("e")?.pins == 1)
        index.unpin(other)
        index.removeGroup("e")
        index.store(file("zip", usage: 4096), inGroup: "c", directoryUsage: 4096, now: 2)

        index.removeGroup("c")
        #expect(index.groupsByRecency().map(\.key) == ["a", "d", "b"])
        // A freed slot is reused without disturbing the order.
        index.store(file("mod", usage: 4096), inGroup: "e", directoryUsage: 4096, now: 3)
        #expect(index.groupsByRecency().map(\.key) == ["e", "a", "d", "b"])
    }

    @Test func persistsUsesOnlyAtTheGivenResolution() {
        var index = CacheIndex()
        index.store(file("zip", usage: 4096), inGroup: "a", directoryUsage: 4096, now: 0)
        #expect(index.recordUse(of: "a", now: 5, resolution: 10) == false)
        #expect(index.recordUse(of: "a", now: 10, resolution: 10) == true)
        #expect(index.recordUse(of: "a", now: 15, resolution: 10) == false)
        #expect(index.group("a")?.lastUsed == 15)
        #expect(index.recordUse(of: "missing", now: 15, resolution: 0) == false)
    }

    @Test func aFileUseRecordsPinsAndRespectsTheSizeLimit() throws {
        var index = CacheIndex()
        for name in ["a", "b"] {
            index.store(file("zip", usage: 4096), inGroup: name, directoryUsage: 4096, now: 1)
        }
        let zip = try CacheKey(group: "a", name: "zip")
        // Too large: found, but neither used nor pinned.
        #expect(index.useFile(zip, now: 5, resolution: 10, pin: true, sizeLimit: 100) == nil)
        #expect(index.evictionCandidates().map(\.key) == ["a", "b"])
        #expect(index.useFile(try CacheKey(group: "a", name: "mod"), now: 5, resolution: 10, pin: true) == nil)
        #expect(index.useFile(try CacheKey(group: "c", name: "zip"), now: 5, resolution: 10, pin: true) == nil)
        #expect(index.evictionCandidates().map(\.key) == ["a", "b"])

        let found = index.useFile(zip, now: 5, resolution: 10, pin: true)
        let use = try #require(found)
        #expect(use.file.name == "zip" && use.file.size == 2048)
        #expect(!use.persistUse)
        #expect(index.group("a")?.lastUsed == 5)
        #expect(index.groupsByRecency().map(\.key) == ["a", "b"])
        #expect(index.evictionCandidates().map(\.key) == ["b"])
        index.unpin(use.pin)
        #expect(index.evictionCandidates().map(\.key) == ["b", "a"])

        let again = index.useFile(zip, now: 11, resolution: 10, pin: false)
        let unpinned = try #require(again)
        #expect(unpinned.persistUse)
        #expect(index.group("a")?.pins == 0)
    }
}

@Suite struct GroupDirectoryNameTests {
    @Test(arguments: [
        "example.com/!azure/sdk/@v/v1.2.3",
        "golang.org/x/text/@v/v0.0.0-20170915032832-14c0d48ead0c",
        "example.com/m/@v/v2.0.0+incompatible",
        "..",
        ".hidden",
        "a/../../etc/passwd",
        "space and %percent",
        "ünïcödé",
    ])
    func roundTrips(group: String) throws {
        let name = try #require(GroupDirectoryName.encode(group))
        #expect(!name.contains("/"))
        #expect(!name.hasPrefix("."))
        #expect(GroupDirectoryName.decode(name) == group)
    }

    @Test func rejectsNamesItDoesNotProduce() {
        #expect(GroupDirectoryName.decode("a%2fb") == nil)  // lower-case escape
        #expect(GroupDirectoryName.decode("a%4") == nil)
        #expect(GroupDirectoryName.decode("a b") == nil)
        #expect(GroupDirectoryName.decode("%61") == nil)  // escaped plain byte
        #expect(GroupDirectoryName.decode("") == nil)
    }

    @Test func refusesGroupsLongerThanOneFileName() {
        #expect(GroupDirectoryName.encode(String(repeating: "a", count: 255)) != nil)
        #expect(GroupDirectoryName.encode(String(repeating: "a", count: 256)) == nil)
        #expect(GroupDirectoryName.encode(String(repeating: "/", count: 90)) == nil)
        #expect(throws: CacheKeyError.self) { try CacheKey(group: String(repeating: "x", count: 300), name: "zip") }
    }

    @Test func validatesFileNames() {
        #expect(throws: CacheKeyError.self) { try CacheKey(group: "g", name: "../x") }
        #expect(throws: CacheKeyError.self) { try CacheKey(group: "g", name: ".zip") }
        #expect(throws: CacheKeyError.self) { try CacheKey(group: "g", name: "Zip") }
        #expect(throws: CacheKeyError.self) { try CacheKey(group: "", name: "zip") }
        #expect((try? CacheKey(group: "g", name: "zip.404")) != nil)
    }
}
