import Foundation
import Testing
import TestSupport

extension Integration {
    /// The contract: for any go command, GOPROXY=goedge gives exactly what
    /// GOPROXY=upstream gives — exit status, output, go.mod and go.sum, and
    /// byte-identical downloads, errors included.
    @Suite struct GoCommandParity {
        /// A main module that imports from the fixture's modules.
        static let mainModule: [String: String] = [
            "go.mod": "module example.com/app\n\ngo 1.17\n",
            "main.go": """
                package main

                import (
                \t"fmt"

                \tcasepkg "example.com/Upper/Case"
                \t"example.com/hello"
                )

                func main() { fmt.Println(hello.Hello(), casepkg.Shout()) }

                """,
        ]

        /// Steps run in order in one workspace.
        static let steps: [[String]] = [
            ["mod", "download", "-json", "example.com/dep@v1.0.0", "example.com/Upper/Case@v1.0.0"],
            ["get", "example.com/hello@v1.1.0"],
            ["get", "example.com/hello@upgrade"],
            ["get", "example.com/dep@patch"],
            ["get", "example.com/hello@latest", "example.com/Upper/Case@latest"],
            ["mod", "tidy"],
            ["build", "./..."],
            ["run", "."],
            ["mod", "verify"],
            ["list", "-m", "-versions", "example.com/hello", "example.com/quote"],
            ["list", "-m", "-retracted", "-versions", "example.com/hello"],
            ["list", "-m", "-u", "all"],
            ["get", "example.com/hello@v1.2.0"],
            ["get", "example.com/pseudo@master"],
            ["get", "example.com/pseudo@abcdefab"],
            ["get", "example.com/quote@v1.5.3-PRE"],
            ["get", "example.com/incompat@v2.0.0+incompatible"],
            ["mod", "download", "-json", "all"],
            // Errors, which the go command prints from the proxy's answers.
            ["get", "example.com/hello@v9.9.9"],
            ["get", "example.com/nonexistent@latest"],
            ["get", "example.com/broken@latest"],
            ["get", "example.com/gone@v1.0.0"],
            ["get", "example.com/forbidden@latest"],
            ["mod", "download", "example.com/hello@v1.0.0"],
            ["list", "-m", "all"],
        ]

        @Test(arguments: [false, true])
        func goCommandsBehaveAsAgainstTheUpstream(checksumDatabase: Bool) throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
            let sumdb = checksumDatabase ? upstream.sumdbKey : "off"

            let direct = try Workspace(proxy: upstream.url, sumdb: sumdb)
            let through = try Workspace(proxy: agent.url, sumdb: sumdb)
            for step in Self.steps {
                let expected = try direct.run(step)
                let actual = try through.run(step)
                #expect(actual.status == expected.status, "go \(step.joined(separator: " ")): exit status\n\(actual)")
                #expect(actual.output == expected.output, "go \(step.joined(separator: " ")): stdout")
                #expect(actual.errorLines == expected.errorLines, "go \(step.joined(separator: " ")): stderr")
            }
            #expect(through.file("go.mod") == direct.file("go.mod"))
            #expect(through.file("go.sum") == direct.file("go.sum"))
            let expectedFiles = direct.go.downloadedFiles()
            let actualFiles = through.go.downloadedFiles()
            #expect(!expectedFiles.isEmpty)
            #expect(Set(actualFiles.keys) == Set(expectedFiles.keys))
            for (path, bytes) in expectedFiles where actualFiles[path] != bytes {
                Issue.record("downloaded file differs: \(path)")
            }
            #expect(agent.terminate() == 0)
        }

        /// One side of the comparison: a workspace with its own module cache.
        struct Workspace {
            let folder = TemporaryDirectory()
            let go: GoCommand
            let proxy: String

            init(proxy: String, sumdb: String) throws {
                self.proxy = proxy
                go = GoCommand(proxy: proxy, sumdb: sumdb, home: folder.path + "/home")
                for (name, text) in GoCommandParity.mainModule { try folder.write("app/" + name, text) }
            }

            func run(_ arguments: [String]) throws -> Normalized {
                Normalized(try go.run(arguments, in: folder.path + "/app"), proxy: proxy, home: folder.path)
            }

            func file(_ name: String) -> String? { folder.read("app/" + name) }
        }

        /// A result with what legitimately differs between the two sides
        /// (the proxy's URL, the temporary folder) replaced; stderr as a
        /// sorted list of lines, since downloads run in parallel.
        struct Normalized: CustomStringConvertible {
            var status: Int32
            var output: String
            var errorLines: [String]

            init(_ result: CommandResult, proxy: String, home: String) {
                func clean(_ text: String) -> String {
                    text.replacingOccurrences(of: proxy, with: "PROXY").replacingOccurrences(of: home, with: "HOME")
                }
                status = result.status
                output = clean(result.output)
                errorLines = clean(result.errorOutput).split(separator: "\n").map(String.init).sorted()
            }

            var description: String { "exit \(status)\n\(output)\n\(errorLines.joined(separator: "\n"))" }
        }
    }
}

extension Integration.GoCommandParity {
    /// A checksum database named with a path, as a company's own can be:
    /// the go command asks the proxy for /sumdb/localhost.test/sumdb/…, and
    /// through goedge it gets what the upstream gives, cold, warm, and with
    /// the upstream gone.
    static let pathSumdbSteps: [[String]] = [
        ["mod", "download", "-json", "example.com/dep@v1.0.0", "example.com/Upper/Case@v1.0.0", "example.com/quote@v1.5.2"],
        ["get", "example.com/hello@v1.2.0"],
        ["get", "example.com/incompat@v2.0.0+incompatible"],
        ["mod", "tidy"],
        ["mod", "verify"],
    ]

    @Test func aChecksumDatabaseNamedWithAPathWorksThroughGoedge() throws {
        let upstream = try GoProxyFixture()
        let cache = TemporaryDirectory()
        let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
        let sumdb = upstream.pathSumdbKey
        #expect(sumdb.hasPrefix("localhost.test/sumdb+"))
        let direct = try Workspace(proxy: upstream.url, sumdb: sumdb)
        var expected: [Normalized] = []
        for step in Self.pathSumdbSteps { expected.append(try direct.run(step)) }
        #expect(expected.allSatisfy { $0.status == 0 }, "\(expected)")

        // Cold, then warm (a fresh module cache, goedge's cache filled), then offline.
        for round in ["cold", "warm", "offline"] {
            if round == "offline" { upstream.stop() }
            let through = try Workspace(proxy: agent.url, sumdb: sumdb)
            for (step, want) in zip(Self.pathSumdbSteps, expected) {
                let got = try through.run(step)
                #expect(got.status == want.status, "\(round): go \(step.joined(separator: " "))\n\(got)")
                #expect(got.output == want.output, "\(round): go \(step.joined(separator: " ")): stdout")
                #expect(got.errorLines == want.errorLines, "\(round): go \(step.joined(separator: " ")): stderr")
            }
            #expect(through.file("go.sum") == direct.file("go.sum"), "\(round)")
        }
        #expect(Integration.CacheBehaviour.storedFiles(cache).contains { $0.hasPrefix("sumdb/localhost.test/sumdb") })
        #expect(agent.terminate() == 0)
    }

    /// A zip that breaks the module zip rules reaches the go command as the
    /// upstream sent it, so it says what is wrong itself; never kept.
    @Test func aDamagedZipIsJudgedByTheGoCommand() throws {
        let upstream = try GoProxyFixture()
        let cache = TemporaryDirectory()
        let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
        let direct = try Workspace(proxy: upstream.url, sumdb: "off")
        let expected = try direct.run(["get", "example.com/outside@v1.0.0"])
        #expect(expected.status != 0)
        #expect(expected.errorLines.joined(separator: "\n").contains("outside.txt"), "\(expected)")
        var fetched: [Int] = []
        for _ in 0..<2 {
            let through = try Workspace(proxy: agent.url, sumdb: "off")
            let got = try through.run(["get", "example.com/outside@v1.0.0"])
            #expect(got.status == expected.status, "\(got)")
            #expect(got.errorLines == expected.errorLines, "\(got)")
            fetched.append(try upstream.requests(for: "/example.com/outside/@v/v1.0.0.zip"))
        }
        // Not kept: the second time it is fetched again.
        #expect(fetched[1] > fetched[0], "\(fetched)")
        #expect(!Integration.CacheBehaviour.storedFiles(cache).contains { $0.contains("outside/@v/v1.0.0/zip") })
        // Its .info and .mod may be cached; its zip is not.
        let listed = try ChildProcess.run(Paths.goedge, ["cache", "ls", "--json", "--config", "/dev/null", "--agent", agent.url])
        struct Listed: Decodable { var module: String?; var files: [String] }
        let entries = try JSONDecoder().decode([Listed].self, from: Data(listed.output.utf8))
        #expect(!entries.contains { $0.module == "example.com/outside" && $0.files.contains("zip") }, "\(listed)")
        #expect(agent.log.contains("damaged file from upstream"), "\(agent.log)")
        #expect(agent.terminate() == 0)
    }
}
