import Testing

@testable import GoModules
@testable import Upstream
@testable import ModuleProxy
@testable import Prefetch
@testable import CacheAdmin
@testable import FolderWatch

/// go.mod, go.work and go.sum read as the go command reads them, odd but
/// valid forms included, and what does not parse reported with file:line.
@Suite struct GoModFileTests {
    /// Found by fuzzing: a form feed (whitespace, but not a blank to modfile)
    /// kept the lexer making empty words forever. Now it is an error, as in modfile.
    @Test(arguments: ["module example.com/m\n\u{0C}go 1.21\n", "go 1.21\u{0B}\n", "module a\u{00A0}b\n"])
    func charactersThatAreNeitherBlanksNorWordsAreRefused(text: String) {
        #expect(throws: GoFileError.self) { try GoModFile(parsing: text, file: "go.mod") }
        #expect(throws: GoFileError.self) { try GoWorkFile(parsing: text, file: "go.work") }
    }

    static func module(_ path: String) -> ModulePath { try! ModulePath(path) }
    static func version(_ text: String) -> ModuleVersion { try! ModuleVersion(text) }

    @Test func readsEveryDirective() throws {
        let text = """
            // The service.
            module "example.org/service"

            go 1.21.3
            toolchain go1.22.1
            godebug default=go1.21

            require example.com/single v1.0.0
            require (
            \texample.com/a v1.2.3 // indirect
            \t"example.com/quoted" v0.1.0
            \t`example.com/raw` v2.0.0+incompatible // indirect; needed by a
            \texample.com/b v0.0.0-20230301120000-abcdefabcdef // not indirect

            \t// A comment line inside the block.
            )
            require ()

            exclude example.com/a v1.2.2
            exclude (
            \texample.com/b v0.0.1
            )

            replace example.com/a => example.com/fork v1.2.4
            replace example.com/b v0.0.1 => ../b
            replace (
            \texample.com/c => /abs/c
            \texample.com/d v1.0.0 => example.com/d v1.0.1
            )

            retract v0.9.0 // Published by mistake.
            retract [v0.1.0, v0.2.0]
            retract (
            \tv0.8.0
            )
            tool example.com/tool
            """
        let file = try GoModFile(parsing: text, file: "go.mod")
        #expect(file.module == Self.module("example.org/service"))
        #expect(file.goVersion == "1.21.3")
        #expect(file.toolchain == "go1.22.1")
        #expect(file.isPruned)
        #expect(
            file.requirements.map { "\($0.module.path)@\($0.version.text) \($0.indirect)" } == [
                "example.com/single@v1.0.0 false", "example.com/a@v1.2.3 true", "example.com/quoted@v0.1.0 false",
                "example.com/raw@v2.0.0+incompatible true", "example.com/b@v0.0.0-20230301120000-abcdefabcdef false",
            ])
        #expect(file.exclusions.map(\.description) == ["example.com/a@v1.2.2", "example.com/b@v0.0.1"])
        #expect(
            file.replacements == [
                .init(module: Self.module("example.com/a"), version: nil,
                    target: .module(Self.module("example.com/fork"), Self.version("v1.2.4"))),
                .init(module: Self.module("example.com/b"), version: Self.version("v0.0.1"), target: .localPath("../b")),
                .init(module: Self.module("example.com/c"), version: nil, target: .localPath("/abs/c")),
                .init(module: Self.module("example.com/d"), version: Self.version("v1.0.0"),
                    target: .module(Self.module("example.com/d"), Self.version("v1.0.1"))),
            ])
        #expect(
            file.retractions == [
                .init(low: "v0.9.0", high: "v0.9.0"), .init(low: "v0.1.0", high: "v0.2.0"), .init(low: "v0.8.0", high: "v0.8.0"),
            ])
    }

    @Test func readsCRLFAndBlankOnlyFiles() throws {
        let file = try GoModFile(parsing: "module example.com/m\r\n\r\ngo 1.16\r\nrequire example.com/a v1.0.0 // indirect\r\n", file: "go.mod")
        #expect(file.module == Self.module("example.com/m"))
        #expect(file.goVersion == "1.16")
        #expect(!file.isPruned)
        #expect(file.requirements.first?.indirect == true)
        #expect(try GoModFile(parsing: "\n\n// only a comment\n", file: "go.mod").requirements.isEmpty)
    }

    @Test func aGoModWithoutAGoLineIsUnpruned() throws {
        #expect(!(try GoModFile(parsing: "module example.com/m\n", file: "go.mod")).isPruned)
        #expect(try GoModFile(parsing: "module example.com/m\ngo 1.17\n", file: "go.mod").isPruned)
        #expect(try GoModFile(parsing: "module example.com/m\ngo 1.9\n", file: "go.mod").isPruned == false)
        #expect(try GoModFile(parsing: "module example.com/m\ngo 2.0\n", file: "go.mod").isPruned)
    }

    /// Half-saved and mistyped files: an error naming the file and line, never a crash.
    @Test(arguments: [
        ("module example.com/m\nrequire (\n\texample.com/a v1.0.0\n", 3, "unterminated block"),
        ("module example.com/m\nrequire example.com/a\n", 2, "usage: require"),
        ("module example.com/m\n\nrequire example.com/a v1\n", 3, "invalid version"),
        ("module example.com/m\nrequire example.com/a latest\n", 2, "invalid version"),
        ("module example.com/m\nrequire \"example.com/a v1.0.0\n", 2, "unexpected end of line in string"),
        ("module example.com/m\nfrobnicate example.com/a\n", 2, "unknown directive: frobnicate"),
        ("module example.com/m\ngo 1.21\ngo 1.22\n", 3, "repeated go statement"),
        ("module example.com/m\ngo one\n", 2, "invalid go version"),
        ("module example.com/m\nreplace example.com/a => example.com/b\n", 2, "must be a directory path"),
        ("module example.com/m\nreplace example.com/a v1.0.0\n", 2, "usage: replace"),
        ("module example.com/m\n/* old */\n", 2, "// comments"),
        ("module example.com/m\nrequire NODOT/a v1.0.0\n", 2, "malformed module path"),
    ])
    func reportsWhereAFileDoesNotParse(text: String, line: Int, message: String) {
        do {
            _ = try GoModFile(parsing: text, file: "/w/go.mod")
            Issue.record("parsed: \(text)")
        } catch {
            #expect(error.file == "/w/go.mod")
            #expect(error.line == line, "\(error)")
            #expect(error.message.contains(message), "\(error)")
            #expect(error.description.hasPrefix("/w/go.mod:\(line): "))
        }
    }

    /// A dependency's go.mod is read as the go command reads it: only
    /// module, go, require and retract matter.
    @Test func readsADependencysGoModLaxly() throws {
        let text = "module example.com/dep\ngo 1.17\nfuture-directive whatever\nreplace example.com/x => ./x\nrequire example.com/y v1.0.0\n"
        #expect(throws: GoFileError.self) { try GoModFile(parsing: text, file: "go.mod") }
        let lax = try GoModFile(parsing: text, file: "go.mod", strict: false)
        #expect(lax.requirements.map(\.module.path) == ["example.com/y"])
        #expect(lax.replacements.isEmpty)
    }
}

@Suite struct GoWorkFileTests {
    @Test func readsUsesAndReplacements() throws {
        let text = """
            go 1.22

            use ./app
            use (
            \t./lib // the library
            \t"../shared tools"
            )
            replace example.com/a v1.0.0 => example.com/a v1.0.1
            """
        let work = try GoWorkFile(parsing: text, file: "go.work")
        #expect(work.goVersion == "1.22")
        #expect(work.uses == ["./app", "./lib", "../shared tools"])
        #expect(work.replacements.count == 1)
    }

    @Test func reportsWhereItDoesNotParse() {
        #expect(throws: GoFileError(file: "go.work", line: 2, message: "unknown directive: require")) {
            try GoWorkFile(parsing: "go 1.22\nrequire example.com/a v1.0.0\n", file: "go.work")
        }
    }
}

@Suite struct GoSumFileTests {
    @Test func readsBothKindsOfLine() throws {
        let text = """
            example.com/a v1.0.0 h1:EQLf4y9psj6+G81YwJnmioJ6YiVZ/vVDBO5L0Bbwil8=
            example.com/a v1.0.0/go.mod h1:rvH0cDjiiR4IU/GhijvOB7FJDcIXl9PjN9KhYoHlYOM=\r
            \r
            example.com/b v2.0.0+incompatible/go.mod h1:TWYib1diJN0kBHZ92LZQJ2wsm2cddQkb4AV5DVi4PA0=

            """
        let sum = try GoSumFile(parsing: text, file: "go.sum")
        #expect(sum.lines.count == 3)
        #expect(sum.lines.map(\.goModOnly) == [false, true, true])
        let a = ModuleVersionKey(module: try ModulePath("example.com/a"), version: try ModuleVersion("v1.0.0"))
        #expect(sum.hash(of: a, goMod: false) == "h1:EQLf4y9psj6+G81YwJnmioJ6YiVZ/vVDBO5L0Bbwil8=")
        #expect(sum.hash(of: a, goMod: true) == "h1:rvH0cDjiiR4IU/GhijvOB7FJDcIXl9PjN9KhYoHlYOM=")
        #expect(sum.lines[2].version.text == "v2.0.0+incompatible")
    }

    @Test(arguments: [
        ("example.com/a v1.0.0\n", 1),
        ("example.com/a v1.0.0 h1:x=\nexample.com/a v1 h1:y=\n", 2),
        ("\n\nexample.com/a v1.0.0 nohash\n", 3),
        ("example.com/a v1.0.0 h1:x= extra\n", 1),
    ])
    func reportsBadLines(text: String, line: Int) {
        do {
            _ = try GoSumFile(parsing: text, file: "go.sum")
            Issue.record("parsed: \(text)")
        } catch {
            #expect(error.line == line, "\(error)")
        }
    }
}
