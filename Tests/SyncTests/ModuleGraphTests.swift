import Synchronization
import Testing

@testable import GoModules
@testable import Upstream
@testable import ModuleProxy
@testable import Prefetch
@testable import CacheAdmin
@testable import FolderWatch

/// The module graph walked as the go command walks it (pruned below go 1.17
/// modules, whole below older ones), with replacements and exclusions.
@Suite struct ModuleGraphTests {
    /// go.mod files and version lists from a table; records what was read.
    final class TableSource: ModuleSource {
        let goMods: [String: String]
        let lists: [String: [String]]
        let read = Mutex<[String]>([])

        init(goMods: [String: String], lists: [String: [String]] = [:]) {
            self.goMods = goMods
            self.lists = lists
        }

        struct Missing: Error {}

        func goMod(_ key: ModuleVersionKey) async throws -> GoModFile {
            read.withLock { $0.append(key.description) }
            guard let text = goMods[key.description] else { throw Missing() }
            return try GoModFile(parsing: text, file: "\(key)/go.mod", strict: false)
        }

        func versions(_ module: ModulePath) async throws -> [ModuleVersion] {
            guard let list = lists[module.path] else { throw Missing() }
            return try list.map { try ModuleVersion($0) }
        }
    }

    static func goMod(_ path: String, go: String, _ requires: String...) -> String {
        "module \(path)\ngo \(go)\n" + requires.map { "require \($0)\n" }.joined()
    }

    static func roots(_ text: String) throws -> GoModFile {
        try GoModFile(parsing: text, file: "go.mod")
    }

    static func selected(_ graph: ModuleGraph) -> [String] {
        graph.selected.map { "\($0.key.path)@\($0.value.text)" }.sorted()
    }

    /// a (1.17) requires b v1.1.0 (whose go.mod requires c), the main module b v1.0.0.
    static let prunedTable = TableSource(goMods: [
        "example.com/a@v1.0.0": goMod("example.com/a", go: "1.17", "example.com/b v1.1.0"),
        "example.com/b@v1.0.0": goMod("example.com/b", go: "1.17"),
        "example.com/b@v1.1.0": goMod("example.com/b", go: "1.17", "example.com/c v1.0.0"),
        "example.com/c@v1.0.0": goMod("example.com/c", go: "1.17"),
    ])

    @Test func aPrunedGraphReadsOnlyTheMainModulesRequirements() async throws {
        let main = try Self.roots("module m\ngo 1.17\nrequire example.com/a v1.0.0\nrequire example.com/b v1.0.0\n")
        let source = Self.prunedTable
        source.read.withLock { $0.removeAll() }
        let graph = await ModuleGraph.load(roots: main.requirements, pruned: true, rules: .init(), source: source)
        #expect(Self.selected(graph) == ["example.com/a@v1.0.0", "example.com/b@v1.1.0"])
        #expect(graph.loaded.map(\.description).sorted() == ["example.com/a@v1.0.0", "example.com/b@v1.0.0"])
        #expect(graph.failures.isEmpty)
    }

    @Test func anUnprunedGraphReadsEverything() async throws {
        let main = try Self.roots("module m\ngo 1.16\nrequire example.com/a v1.0.0\nrequire example.com/b v1.0.0\n")
        let graph = await ModuleGraph.load(roots: main.requirements, pruned: false, rules: .init(), source: Self.prunedTable)
        #expect(Self.selected(graph) == ["example.com/a@v1.0.0", "example.com/b@v1.1.0", "example.com/c@v1.0.0"])
        #expect(graph.loaded.contains { $0.description == "example.com/b@v1.1.0" })
    }

    /// Below a dependency older than go 1.17 its whole graph counts, even in a pruned graph.
    @Test func belowAnUnprunedDependencyEverythingIsRead() async throws {
        let source = TableSource(goMods: [
            "example.com/old@v1.0.0": Self.goMod("example.com/old", go: "1.16", "example.com/x v1.0.0"),
            "example.com/x@v1.0.0": Self.goMod("example.com/x", go: "1.17", "example.com/y v1.0.0"),
            "example.com/y@v1.0.0": Self.goMod("example.com/y", go: "1.17"),
        ])
        let main = try Self.roots("module m\ngo 1.17\nrequire example.com/old v1.0.0\n")
        let graph = await ModuleGraph.load(roots: main.requirements, pruned: true, rules: .init(), source: source)
        #expect(Self.selected(graph) == ["example.com/old@v1.0.0", "example.com/x@v1.0.0", "example.com/y@v1.0.0"])
        #expect(graph.loaded.count == 3)
    }

    @Test func replacementsAreReadAtTheReplacementsVersionAndLocalOnesNotAtAll() async throws {
        let source = TableSource(goMods: [
            "example.com/fork@v2.0.0": Self.goMod("example.com/fork", go: "1.17", "example.com/z v1.0.0"),
            "example.com/z@v1.0.0": Self.goMod("example.com/z", go: "1.17"),
        ])
        let main = try Self.roots(
            """
            module m
            go 1.16
            require example.com/a v1.0.0
            require example.com/local v1.0.0
            replace example.com/a => example.com/fork v2.0.0
            replace example.com/local => ../local
            """)
        let rules = ModuleGraph.Rules(replacements: main.replacements)
        let graph = await ModuleGraph.load(roots: main.requirements, pruned: false, rules: rules, source: source)
        #expect(source.read.withLock { $0.sorted() } == ["example.com/fork@v2.0.0", "example.com/z@v1.0.0"])
        #expect(Self.selected(graph) == ["example.com/a@v1.0.0", "example.com/local@v1.0.0", "example.com/z@v1.0.0"])
        #expect(rules.target(of: ModuleVersionKey(module: try ModulePath("example.com/a"), version: try ModuleVersion("v1.0.0")))?.description
            == "example.com/fork@v2.0.0")
        #expect(rules.target(of: ModuleVersionKey(module: try ModulePath("example.com/local"), version: try ModuleVersion("v1.0.0"))) == nil)
    }

    @Test func anExcludedVersionGivesWayToTheNextHigherOne() async throws {
        let source = TableSource(
            goMods: [
                "example.com/x@v1.1.0": Self.goMod("example.com/x", go: "1.17"),
                "example.com/x@v1.3.0": Self.goMod("example.com/x", go: "1.17"),
            ],
            lists: ["example.com/x": ["v1.0.0", "v1.3.0", "v1.1.0", "v1.2.0", "v0.9.0"]])
        let main = try Self.roots(
            "module m\ngo 1.17\nrequire example.com/x v1.0.0\nexclude example.com/x v1.0.0\nexclude example.com/x v1.2.0\n")
        let rules = ModuleGraph.Rules(exclusions: Set(main.exclusions))
        let graph = await ModuleGraph.load(roots: main.requirements, pruned: true, rules: rules, source: source)
        #expect(Self.selected(graph) == ["example.com/x@v1.1.0"])
        #expect(!source.read.withLock { $0 }.contains("example.com/x@v1.0.0"))
    }

    @Test func aMissingGoModIsAFailureNotACrash() async throws {
        let main = try Self.roots("module m\ngo 1.17\nrequire example.com/gone v1.0.0\nrequire example.com/c v1.0.0\n")
        let graph = await ModuleGraph.load(roots: main.requirements, pruned: true, rules: .init(), source: Self.prunedTable)
        #expect(graph.failures.keys.map(\.description) == ["example.com/gone@v1.0.0"])
        #expect(graph.loaded.map(\.description) == ["example.com/c@v1.0.0"])
    }

    /// Minimal version selection compares semantically, not as text.
    @Test func selectionComparesVersionsSemantically() async throws {
        let source = TableSource(goMods: [
            "example.com/a@v1.0.0": Self.goMod("example.com/a", go: "1.16", "example.com/x v1.10.0"),
            "example.com/x@v1.9.0": Self.goMod("example.com/x", go: "1.16"),
            "example.com/x@v1.10.0": Self.goMod("example.com/x", go: "1.16"),
        ])
        let main = try Self.roots("module m\ngo 1.16\nrequire example.com/a v1.0.0\nrequire example.com/x v1.9.0\n")
        let graph = await ModuleGraph.load(roots: main.requirements, pruned: false, rules: .init(), source: source)
        #expect(Self.selected(graph) == ["example.com/a@v1.0.0", "example.com/x@v1.10.0"])
    }
}

extension ModuleGraphTests {
    /// Completing a go.mod that lacks requirements (added by hand): every
    /// selected version's go.mod is read, as the go command reads them once it
    /// adds them to the main module.
    @Test func completingReadsTheGoModOfEverySelectedVersion() async throws {
        let main = try Self.roots("module m\ngo 1.17\nrequire example.com/a v1.0.0\n")
        let graph = await ModuleGraph.load(
            roots: main.requirements, pruned: true, rules: .init(), source: Self.prunedTable, completing: true)
        #expect(Self.selected(graph) == ["example.com/a@v1.0.0", "example.com/b@v1.1.0", "example.com/c@v1.0.0"])
        #expect(graph.loaded.map(\.description).sorted() == ["example.com/a@v1.0.0", "example.com/b@v1.1.0", "example.com/c@v1.0.0"])
        let plain = await ModuleGraph.load(roots: main.requirements, pruned: true, rules: .init(), source: Self.prunedTable)
        #expect(Self.selected(plain) == ["example.com/a@v1.0.0", "example.com/b@v1.1.0"])
    }
}
