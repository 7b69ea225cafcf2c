import LRUCache
import Testing

@testable import GoModules
@testable import Upstream
@testable import ModuleProxy
@testable import Prefetch
@testable import CacheAdmin
@testable import FolderWatch

@Suite struct CacheEntryTests {
    static func entry(_ group: String) -> CacheEntry {
        CacheEntry(StoredGroup(name: group, size: 10, diskUsage: 4096, lastUsed: 5_000_000_000, files: ["zip", "info"]))
    }

    @Test func namesModuleVersionsAsTheGoCommandDoes() {
        let entry = Self.entry("github.com/!azure/sdk/@v/v1.2.3-!r!c")
        #expect(entry.name == "github.com/Azure/sdk@v1.2.3-RC")
        #expect(entry.module == "github.com/Azure/sdk" && entry.version == "v1.2.3-RC")
        #expect(entry.files == ["info", "zip"])
        #expect(entry.lastUsed == 5)
        let list = Self.entry("github.com/!azure/sdk/@v")
        #expect(list.module == nil && list.name == "github.com/!azure/sdk/@v")
    }

    @Test(arguments: [
        ("github.com/Azure/sdk@v1.2.3-RC", true), ("github.com/Azure/*", true), ("github.com/Azure/sdk", true),
        ("*@v1.2.*", true), ("github.com/...", true), ("github.com/Azure/...", true), ("github.com/Az/...", false),
        ("golang.org/*", false), ("github.com/Azure/sdk@v2*", false),
    ])
    func matchesGlobsAndPathPrefixes(pattern: String, matches: Bool) {
        #expect(Self.entry("github.com/!azure/sdk/@v/v1.2.3-!r!c").matches(pattern) == matches)
    }
}
