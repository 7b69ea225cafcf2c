import Foundation
import Testing

@testable import LRUCache
import TestSupport

@Suite struct DirectoryListingTests {
    /// readdir's last entry may end right at the end of its buffer: its name
    /// must be read in place, not by copying a whole `dirent` (which reaches
    /// 256 bytes further). Here the entry ends at a page nothing is mapped
    /// after; copying it would crash the test.
    @Test func anEntryIsReadInPlace() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let region = try #require(mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        defer { munmap(region, 2 * page) }
        #expect(mprotect(region + page, page, PROT_NONE) == 0)
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        let length = (nameOffset + 4 + 7) & ~7  // "abc" and its NUL, rounded up as getdents does
        let entry = region + page - length
        memset(entry, 0, length)
        entry.storeBytes(of: UInt8(DT_DIR), toByteOffset: MemoryLayout<dirent>.offset(of: \dirent.d_type)!, as: UInt8.self)
        for (offset, byte) in "abc".utf8.enumerated() { entry.storeBytes(of: byte, toByteOffset: nameOffset + offset, as: UInt8.self) }
        let (name, type) = FileSystem.nameAndType(of: entry.assumingMemoryBound(to: dirent.self))
        #expect(name == "abc" && type == UInt8(DT_DIR))
    }

    @Test func aFolderIsListedWithTypes() throws {
        let folder = TemporaryDirectory()
        try folder.write("sub/file", "x")
        try folder.write("top", "y")
        let entries = try FileSystem.list(folder.path).sorted { $0.name < $1.name }
        #expect(entries.map(\.name) == ["sub", "top"])
        #expect(entries.map(\.isDirectory) == [true, false])
    }
}
