import Testing

@testable import GoModules
@testable import ModuleProxy
@testable import Prefetch

/// What a prefetch plans: the go command reads every go.mod of the graph
/// before it needs a zip, and builds the main module's own requirements
/// first, so that is the order the files come in; and when a save is
/// finished, so that a watcher need not wait for more.
@Suite struct PrefetchPlanTests {
    @Test func goModFilesFirstThenTheMainModulesOwnRequirementsZips() throws {
        let goMod = """
            module example.org/app

            go 1.21

            require (
            \texample.com/direct v1.0.0
            \texample.com/zeta v1.2.0
            \texample.com/indirect v0.1.0 // indirect
            )
            """
        let goSum = """
            example.com/alpha v1.0.0 h1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=
            example.com/alpha v1.0.0/go.mod h1:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb=
            example.com/direct v1.0.0 h1:ccccccccccccccccccccccccccccccccccccccccccc=
            example.com/direct v1.0.0/go.mod h1:ddddddddddddddddddddddddddddddddddddddddddd=
            example.com/indirect v0.1.0 h1:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee=
            example.com/indirect v0.1.0/go.mod h1:fffffffffffffffffffffffffffffffffffffffffff=
            example.com/old v0.9.0/go.mod h1:ggggggggggggggggggggggggggggggggggggggggggg=
            example.com/zeta v1.2.0 h1:hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh=
            example.com/zeta v1.2.0/go.mod h1:iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii=

            """
        let workspace = Workspace(
            WorkspaceFiles(files: [.init(path: "/app/go.mod", content: goMod), .init(path: "/app/go.sum", content: goSum)]))
        #expect(workspace.problems.isEmpty, "\(workspace.problems)")
        let order = PrefetchJob.listedInGoSum(workspace).map { chain in chain.map { "\($0.resource)" } }
        #expect(
            order == [
                ["/example.com/alpha/@v/v1.0.0.mod"], ["/example.com/direct/@v/v1.0.0.mod"], ["/example.com/indirect/@v/v0.1.0.mod"],
                ["/example.com/old/@v/v0.9.0.mod"], ["/example.com/zeta/@v/v1.2.0.mod"],
                // The main module's direct requirements, then the rest; each zip before its .info.
                ["/example.com/direct/@v/v1.0.0.zip", "/example.com/direct/@v/v1.0.0.info"],
                ["/example.com/zeta/@v/v1.2.0.zip", "/example.com/zeta/@v/v1.2.0.info"],
                ["/example.com/alpha/@v/v1.0.0.zip", "/example.com/alpha/@v/v1.0.0.info"],
                ["/example.com/indirect/@v/v0.1.0.zip", "/example.com/indirect/@v/v0.1.0.info"],
            ])
    }

    @Test func aSaveLooksCompleteOnceGoSumCoversGoMod() {
        let goMod = "module example.org/app\n\ngo 1.21\n\nrequire (\n\texample.com/a v1.0.0\n\texample.com/b v1.1.0 // indirect\n)\n"
        let replaced = goMod + "\nreplace example.com/b => ../b\n"
        let sumA = "example.com/a v1.0.0/go.mod h1:ddddddddddddddddddddddddddddddddddddddddddd=\n"
        let sumB = "example.com/b v1.1.0 h1:ccccccccccccccccccccccccccccccccccccccccccc=\n"
        func files(_ goMod: String, _ goSum: String?) -> WorkspaceFiles {
            var files = [WorkspaceFiles.File(path: "/app/go.mod", content: goMod)]
            if let goSum { files.append(.init(path: "/app/go.sum", content: goSum)) }
            return WorkspaceFiles(files: files)
        }
        #expect(files(goMod, sumA + sumB).looksComplete)
        // go.sum not written yet, or written only in part (a requirement just added).
        #expect(!files(goMod, nil).looksComplete)
        #expect(!files(goMod, sumA).looksComplete)
        // A requirement replaced by a folder needs no line.
        #expect(files(replaced, sumA).looksComplete)
        // Saved mid-edit: it does not parse.
        #expect(!files("module example.org/app\nrequire (\n", sumA + sumB).looksComplete)
    }
}
