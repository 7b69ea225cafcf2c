import Foundation
import ProxyTestSupport
import Testing
import TestSupport

@testable import GoModules

/// goedge's own module zip reader: everything a well-formed zip holds, and
/// a clear refusal (never a trap) for every way a crafted one lies.
@Suite struct ModuleZipTests {
    private func open(_ bytes: [UInt8]) throws -> ModuleZip {
        let folder = TemporaryDirectory()
        let path = folder.path + "/z.zip"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return try ModuleZip(path: path)
    }

    private func contents(_ zip: ModuleZip) throws -> [String: String] {
        var files: [String: String] = [:]
        for entry in zip.entries {
            var bytes: [UInt8] = []
            try zip.read(entry) { bytes += $0 }
            files[entry.name] = String(decoding: bytes, as: UTF8.self)
        }
        return files
    }

    @Test(arguments: [true, false]) func readsWhatAZipWriterWrote(compressed: Bool) throws {
        let files = [("example.com/m@v1.0.0/go.mod", "module example.com/m\n"), ("example.com/m@v1.0.0/a/b.go", String(repeating: "package b\n", count: 5000))]
        let zip = try open(try ZipMaker.zip(files, compressed: compressed))
        #expect(try contents(zip) == Dictionary(uniqueKeysWithValues: files))
        try zip.checkModuleRules(prefix: "example.com/m@v1.0.0/")
    }

    @Test func holdsZipsToTheModuleRules() throws {
        func problem(_ files: [(String, String)]) throws -> String? {
            do {
                try open(try ZipMaker.zip(files)).checkModuleRules(prefix: "example.com/m@v1.0.0/")
                return nil
            } catch let failure as ModuleZip.Failure {
                return failure.description
            }
        }
        #expect(try problem([("example.com/m@v1.0.0/go.mod", "module example.com/m\n")]) == nil)
        #expect(try problem([("example.com/other@v1.0.0/go.mod", "x")])?.contains("outside") == true)
        #expect(try problem([("example.com/m@v1.0.0/../escape.go", "x")])?.contains("invalid path") == true)
        #expect(try problem([("example.com/m@v1.0.0/a.go", "x"), ("example.com/m@v1.0.0/A.go", "y")])?.contains("twice") == true)
    }

    /// The zips that once trapped the agent (through a general zip
    /// library's unchecked conversions and sums): a local-header offset of
    /// 2^63, and an entry of 2^64−1 bytes, given in ZIP64 fields.
    @Test(arguments: [
        [UInt64(1) << 63, 10, 10],
        [0, UInt64.max, 10],
        [0, 10, UInt64.max],
        [UInt64.max - 10, 1, 1],
    ] as [[UInt64]])
    func refusesCraftedZip64Fields(fields: [UInt64]) throws {
        let bytes = CraftedZip.zip64(offset: fields[0], uncompressed: fields[1], compressed: fields[2])
        #expect(bytes.count < 250)
        #expect(throws: ModuleZip.Failure.self) {
            let zip = try open(bytes)
            for entry in zip.entries { try zip.read(entry) { _ in } }
        }
    }

    @Test func refusesWhatIsNotAZipOrIsCutShort() throws {
        #expect(throws: ModuleZip.Failure.self) { try open(Array("not a zip at all, just text".utf8)) }
        let whole = try ZipMaker.module("example.com/m", "v1.0.0")
        #expect(throws: ModuleZip.Failure.self) { try open(Array(whole.prefix(whole.count / 2))) }
        var lying = whole
        // The end record's entry count, far beyond what the directory holds.
        let end = lying.count - 22
        lying[end + 10] = 0xFF
        lying[end + 11] = 0x7F
        #expect(throws: ModuleZip.Failure.self) { try open(lying) }
    }

    /// A zip whose content does not match its CRC or its stated size is refused when read.
    @Test func checksEachEntrysSizeAndCRC() throws {
        var bytes = try ZipMaker.zip([("example.com/m@v1.0.0/go.mod", "module example.com/m\n")], compressed: false)
        // Flip one byte of the stored content (just after the 30-byte local header and the name).
        let name = "example.com/m@v1.0.0/go.mod".utf8.count
        bytes[30 + name + 2] ^= 0x20
        let zip = try open(bytes)
        #expect(throws: ModuleZip.Failure.self) { try zip.read(zip.entries[0]) { _ in } }
    }
}

/// Zips made byte by byte to lie in particular ways.
enum CraftedZip {
    /// One entry whose sizes and header offset are in a ZIP64 extra field.
    static func zip64(offset: UInt64, uncompressed: UInt64, compressed: UInt64) -> [UInt8] {
        let name = Array("example.com/m@v1.0.0/go.mod".utf8)
        var extra: [UInt8] = le16(1) + le16(24) + le64(uncompressed) + le64(compressed) + le64(offset)
        var directory: [UInt8] = le32(0x0201_4b50) + le16(45) + le16(45) + le16(0) + le16(8) + le32(0) + le32(0)
        directory += le32(0xFFFF_FFFF) + le32(0xFFFF_FFFF) + le16(UInt16(name.count)) + le16(UInt16(extra.count))
        directory += le16(0) + le16(0) + le16(0) + le32(0) + le32(0xFFFF_FFFF) + name + extra
        extra = []
        let end: [UInt8] = le32(0x0605_4b50) + le16(0) + le16(0) + le16(1) + le16(1) + le32(UInt32(directory.count)) + le32(0) + le16(0)
        return directory + end
    }

    static func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
    static func le32(_ value: UInt32) -> [UInt8] { le16(UInt16(value & 0xFFFF)) + le16(UInt16(value >> 16)) }
    static func le64(_ value: UInt64) -> [UInt8] { le32(UInt32(value & 0xFFFF_FFFF)) + le32(UInt32(value >> 32)) }
}
