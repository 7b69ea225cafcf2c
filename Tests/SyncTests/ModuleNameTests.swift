import Testing

@testable import GoModules
@testable import Upstream
@testable import ModuleProxy
@testable import Prefetch
@testable import CacheAdmin
@testable import FolderWatch

@Suite struct ModulePathTests {
    @Test(arguments: [
        ("github.com/Azure/azure-sdk-for-go", "github.com/!azure/azure-sdk-for-go"),
        ("rsc.io/QUOTE", "rsc.io/!q!u!o!t!e"),
        ("golang.org/x/text", "golang.org/x/text"),
        ("gopkg.in/yaml.v3", "gopkg.in/yaml.v3"),
        ("example.com/m/v2", "example.com/m/v2"),
        ("example.com/with~tilde_and-dash.dot", "example.com/with~tilde_and-dash.dot"),
    ])
    func escapesAndUnescapes(path: String, escaped: String) throws {
        #expect(try ModulePath(path).escaped == escaped)
        #expect(try ModulePath(escaped: escaped).path == path)
    }

    @Test(arguments: [
        "", "/abs/path", "example.com/", "example.com//x", "nodot/x", "-lead.com/x", "Example.com/x",
        "example.com/../x", "example.com/./x", "example.com/.hidden", "example.com/x.", "example.com/a b",
        "example.com/a@b", "example.com/con", "example.com/x~1", "example.com/m/v1", "example.com/m/v0",
        "example.com/m/v2.0", "gopkg.in/yaml", "example.com/ü",
    ])
    func rejectsWhatTheGoCommandRejects(path: String) {
        #expect(throws: ModuleNameError.self) { try ModulePath(path) }
    }

    @Test(arguments: ["github.com/Azure/x", "example.com/!", "example.com/!A", "example.com/a!", "example.com/%41"])
    func rejectsBadCaseEncoding(escaped: String) {
        #expect(throws: ModuleNameError.self) { try ModulePath(escaped: escaped) }
    }

    @Test func versionsAndQueries() throws {
        let pre = try ModuleVersion(escaped: "v1.5.3-!p!r!e")
        #expect(pre.text == "v1.5.3-PRE" && pre.isCanonical)
        #expect(try ModuleVersion("v2.0.0+incompatible").isCanonical)
        #expect(try ModuleVersion("v0.0.0-20230301120000-abcdefabcdef").isCanonical)
        for query in ["master", "v1", "v1.2", "abcdef12", "v1.2.3+meta", "latest"] {
            #expect(try !ModuleVersion(query).isCanonical, "\(query)")
        }
        for bad in ["..", ".", "a/b", "v1!", "", "ü", "with\"quote", "v1.0.0*"] {
            #expect(throws: ModuleNameError.self, "\(bad)") { try ModuleVersion(bad) }
        }
        #expect(throws: ModuleNameError.self) { try ModuleVersion(escaped: "v1.0.0-PRE") }
    }
}

@Suite struct SemanticVersionTests {
    @Test func ordersAsGoDoes() throws {
        let sorted = [
            "v0.0.0-20190101000000-aaaaaaaaaaaa", "v0.9.0", "v1.0.0-alpha", "v1.0.0-alpha.1", "v1.0.0-alpha.beta",
            "v1.0.0-beta", "v1.0.0-beta.2", "v1.0.0-beta.11", "v1.0.0-rc.1", "v1.0.0", "v1.0.1", "v1.2.0", "v1.10.0",
            "v2.0.0+incompatible",
        ]
        let versions = try sorted.map { try #require(SemanticVersion($0)) }
        #expect(versions.shuffled().sorted().map(\.text) == sorted)
        #expect(SemanticVersion.compare(SemanticVersion("v1.0.0+a")!, SemanticVersion("v1.0.0+b")!) == 0)
        #expect(SemanticVersion.compare(SemanticVersion("v1")!, SemanticVersion("v1.0.0")!) == 0)
    }

    @Test(arguments: ["1.0.0", "v", "v1.", "v01.0.0", "v1.0.0-", "v1.0.0-01", "v1.0.0+", "v1.0.0-a..b", "v1.0.0 "])
    func rejectsInvalid(text: String) {
        #expect(SemanticVersion(text) == nil)
    }
}
