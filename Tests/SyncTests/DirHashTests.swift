import Foundation
import Testing
import TestSupport
import ZIPFoundation

@testable import GoModules
@testable import Upstream
@testable import ModuleProxy
@testable import Prefetch
@testable import CacheAdmin
@testable import FolderWatch

/// h1 hashes as golang.org/x/mod/sumdb/dirhash computes them; the expected
/// values below were computed with it (Debian's golang-golang-x-mod-dev).
@Suite struct DirHashTests {
    @Test func hashesAGoMod() {
        #expect(DirHash.goModHash(Array("module example.com/m\n\ngo 1.17\n".utf8)) == "h1:TATJZwPmuyohvD/dqlcYMn2W7Hx/0XVTeSDFF2vT2qc=")
        #expect(DirHash.goModHash([]) == "h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=")
    }

    /// Files are hashed in byte order of their names ("Z.go" before "go.mod"),
    /// whatever order the zip holds them in.
    @Test func hashesAZipsContent() throws {
        let folder = TemporaryDirectory()
        let path = folder.path + "/m.zip"
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
        let files = [
            ("example.com/m@v1.0.0/sub/b.txt", "b"), ("example.com/m@v1.0.0/m.go", "package m\n"),
            ("example.com/m@v1.0.0/go.mod", "module example.com/m\n"),
            ("example.com/m@v1.0.0/Z.go", "package m // upper case sorts first\n"),
        ]
        for (name, content) in files {
            let data = Data(content.utf8)
            try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) {
                position, size in data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        #expect(try DirHash.zipHash(path: path) == "h1:ZxmawYvAv3W0I7fvODHS7RiKSC+k6LFsq813kp49838=")
    }

    @Test func refusesWhatIsNotAZip() throws {
        let folder = TemporaryDirectory()
        let path = folder.path + "/not.zip"
        try Data("not a zip".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: DirHash.Failure.self) { try DirHash.zipHash(path: path) }
    }
}
